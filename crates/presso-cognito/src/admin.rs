//! Pools, clients, groups and users as an administrator manages them: `CreateUserPool`,
//! `DescribeUserPool`, `ListUserPools`, `CreateUserPoolClient`, `DescribeUserPoolClient`,
//! `ListUserPoolClients`, `CreateGroup`, `GetGroup`, `DeleteGroup`, `ListGroups`,
//! `AdminCreateUser`, `AdminDisableUser`, `AdminEnableUser`, `AdminSetUserPassword`,
//! `AdminGetUser`, `AdminAddUserToGroup`, `AdminRemoveUserFromGroup`,
//! `AdminListGroupsForUser`, `ListUsers`, `AdminDeleteUser`.

use serde_json::{Map, Value, json};

use crate::cx::{
    Cx, PoolSettings, Result, attribute_list, check_attribute_names, epoch, hash_password,
    opt_bool, opt_i64, opt_str, paginate, req_str, string_list, temporary_password,
};
use crate::error::{CognitoError, ErrorType};
use crate::ids;
use crate::store::{self, ClientRow, GroupRow, PoolRow, UserRow};

const ACCOUNT: &str = "000000000000";

// ----- pools -----

/// Creates or (when `id` exists) reconfigures a pool; users, groups and clients stay.
pub(crate) fn put_pool(
    cx: &mut Cx<'_, '_>,
    id: String,
    name: &str,
    request: &Value,
) -> Result<PoolRow> {
    let mut config = request.as_object().cloned().unwrap_or_default();
    for k in ["PoolName", "UserPoolName", "UserPoolId", "Id"] {
        config.remove(k);
    }
    let created = store::pool_get(cx.tx, &id)?.map_or(cx.now, |p| p.created);
    let pool = PoolRow {
        id,
        name: name.to_string(),
        config,
        created,
        modified: cx.now,
    };
    store::pool_put(cx.tx, &pool)?;
    Ok(pool)
}

pub(crate) fn pool_json(cx: &Cx<'_, '_>, pool: &PoolRow) -> Result<Value> {
    let mut out = Map::new();
    out.insert("Id".into(), json!(pool.id));
    out.insert("Name".into(), json!(pool.name));
    out.insert(
        "Arn".into(),
        json!(format!(
            "arn:aws:cognito-idp:{}:{ACCOUNT}:userpool/{}",
            ids::region_of(&pool.id),
            pool.id
        )),
    );
    let settings = PoolSettings::of(pool);
    let mut policies = pool
        .config
        .get("Policies")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(p) = policies.as_object_mut() {
        p.entry("PasswordPolicy").or_insert_with(|| {
            json!({
                "MinimumLength": settings.password.min_length,
                "RequireUppercase": settings.password.upper,
                "RequireLowercase": settings.password.lower,
                "RequireNumbers": settings.password.numbers,
                "RequireSymbols": settings.password.symbols,
                "TemporaryPasswordValidityDays": 7,
            })
        });
        p.entry("SignInPolicy")
            .or_insert_with(|| json!({ "AllowedFirstAuthFactors": settings.first_factors }));
    }
    out.insert("Policies".into(), policies);
    out.insert("LambdaConfig".into(), json!({}));
    for (k, v) in &pool.config {
        if !out.contains_key(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    out.entry("MfaConfiguration").or_insert(json!("OFF"));
    out.entry("UserPoolTier").or_insert(json!("ESSENTIALS"));
    out.entry("DeletionProtection").or_insert(json!("INACTIVE"));
    out.insert(
        "EstimatedNumberOfUsers".into(),
        json!(store::pool_user_count(cx.tx, &pool.id)?),
    );
    out.insert("LastModifiedDate".into(), epoch(pool.modified));
    out.insert("CreationDate".into(), epoch(pool.created));
    Ok(Value::Object(out))
}

pub(crate) fn create_user_pool(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let name = req_str(body, "PoolName")?;
    let id = ids::random_pool_id(cx.region);
    let pool = put_pool(cx, id, name, body)?;
    Ok(json!({ "UserPool": pool_json(cx, &pool)? }))
}

pub(crate) fn describe_user_pool(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    Ok(json!({ "UserPool": pool_json(cx, &pool)? }))
}

pub(crate) fn list_user_pools(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let max = opt_i64(body, "MaxResults").ok_or_else(|| {
        CognitoError::invalid(
            "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null",
        )
    })?;
    let pools = store::pool_list(cx.tx)?;
    let (page, next) = paginate(pools, Some(max), 60, opt_str(body, "NextToken"))?;
    let items: Vec<Value> = page
        .iter()
        .map(|p| {
            json!({
                "Id": p.id,
                "Name": p.name,
                "LambdaConfig": {},
                "LastModifiedDate": epoch(p.modified),
                "CreationDate": epoch(p.created),
            })
        })
        .collect();
    let mut out = json!({ "UserPools": items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

// ----- clients -----

pub(crate) fn put_client(
    cx: &mut Cx<'_, '_>,
    pool: &PoolRow,
    id: String,
    name: &str,
    request: &Value,
) -> Result<ClientRow> {
    if opt_bool(request, "GenerateSecret") == Some(true) {
        return Err(CognitoError::invalid(
            "GenerateSecret is not supported by this local identity provider: use a public client.",
        ));
    }
    let mut config = request.as_object().cloned().unwrap_or_default();
    for k in ["UserPoolId", "ClientName", "ClientId", "GenerateSecret"] {
        config.remove(k);
    }
    let created = match store::client_get(cx.tx, &id)? {
        Some(existing) if existing.pool_id != pool.id => {
            return Err(CognitoError::invalid(format!(
                "Client id {id} already belongs to user pool {}",
                existing.pool_id
            )));
        }
        Some(existing) => existing.created,
        None => cx.now,
    };
    let client = ClientRow {
        id,
        pool_id: pool.id.clone(),
        name: name.to_string(),
        config,
        created,
        modified: cx.now,
    };
    store::client_put(cx.tx, &client)?;
    Ok(client)
}

pub(crate) fn client_json(client: &ClientRow) -> Value {
    let settings = crate::cx::ClientSettings::of(client);
    let mut out = Map::new();
    out.insert("UserPoolId".into(), json!(client.pool_id));
    out.insert("ClientName".into(), json!(client.name));
    out.insert("ClientId".into(), json!(client.id));
    out.insert("LastModifiedDate".into(), epoch(client.modified));
    out.insert("CreationDate".into(), epoch(client.created));
    out.insert("RefreshTokenValidity".into(), json!(30));
    out.insert(
        "AuthSessionValidity".into(),
        json!(settings.auth_session_ms / 60_000),
    );
    out.insert(
        "ExplicitAuthFlows".into(),
        json!(settings.explicit_auth_flows),
    );
    out.insert("AllowedOAuthFlowsUserPoolClient".into(), json!(false));
    out.insert("EnableTokenRevocation".into(), json!(true));
    out.insert(
        "EnablePropagateAdditionalUserContextData".into(),
        json!(false),
    );
    out.insert("PreventUserExistenceErrors".into(), json!("LEGACY"));
    for (k, v) in &client.config {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

pub(crate) fn create_user_pool_client(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let name = req_str(body, "ClientName")?;
    let client = put_client(cx, &pool, ids::random_client_id(), name, body)?;
    Ok(json!({ "UserPoolClient": client_json(&client) }))
}

pub(crate) fn list_user_pool_clients(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let clients = store::client_list(cx.tx, &pool.id)?;
    let (page, next) = paginate(
        clients,
        opt_i64(body, "MaxResults"),
        60,
        opt_str(body, "NextToken"),
    )?;
    let items: Vec<Value> = page
        .iter()
        .map(|c| json!({ "ClientId": c.id, "UserPoolId": c.pool_id, "ClientName": c.name }))
        .collect();
    let mut out = json!({ "UserPoolClients": items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

pub(crate) fn describe_user_pool_client(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let (client, _) = cx.pool_client(req_str(body, "UserPoolId")?, req_str(body, "ClientId")?)?;
    Ok(json!({ "UserPoolClient": client_json(&client) }))
}

// ----- groups -----

fn group_json(g: &GroupRow) -> Value {
    let mut out = Map::new();
    out.insert("GroupName".into(), json!(g.name));
    out.insert("UserPoolId".into(), json!(g.pool_id));
    if let Some(d) = &g.description {
        out.insert("Description".into(), json!(d));
    }
    if let Some(r) = &g.role_arn {
        out.insert("RoleArn".into(), json!(r));
    }
    if let Some(p) = g.precedence {
        out.insert("Precedence".into(), json!(p));
    }
    out.insert("LastModifiedDate".into(), epoch(g.modified));
    out.insert("CreationDate".into(), epoch(g.created));
    Value::Object(out)
}

fn group_not_found() -> CognitoError {
    CognitoError::new(ErrorType::ResourceNotFoundException, "Group not found.")
}

pub(crate) fn put_group(
    cx: &mut Cx<'_, '_>,
    pool: &PoolRow,
    name: &str,
    body: &Value,
    must_be_new: bool,
) -> Result<GroupRow> {
    let existing = store::group_get(cx.tx, &pool.id, name)?;
    if must_be_new && existing.is_some() {
        return Err(CognitoError::new(
            ErrorType::GroupExistsException,
            format!("A group with the name {name} already exists."),
        ));
    }
    let group = GroupRow {
        pool_id: pool.id.clone(),
        name: name.to_string(),
        description: opt_str(body, "Description").map(str::to_string),
        precedence: opt_i64(body, "Precedence"),
        role_arn: opt_str(body, "RoleArn").map(str::to_string),
        created: existing.map_or(cx.now, |g| g.created),
        modified: cx.now,
    };
    store::group_put(cx.tx, &group)?;
    Ok(group)
}

pub(crate) fn create_group(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let group = put_group(cx, &pool, req_str(body, "GroupName")?, body, true)?;
    Ok(json!({ "Group": group_json(&group) }))
}

pub(crate) fn get_group(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let group = store::group_get(cx.tx, &pool.id, req_str(body, "GroupName")?)?
        .ok_or_else(group_not_found)?;
    Ok(json!({ "Group": group_json(&group) }))
}

pub(crate) fn delete_group(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let name = req_str(body, "GroupName")?;
    store::group_get(cx.tx, &pool.id, name)?.ok_or_else(group_not_found)?;
    store::group_delete(cx.tx, &pool.id, name)?;
    Ok(json!({}))
}

pub(crate) fn list_groups(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let groups = store::group_list(cx.tx, &pool.id)?;
    let (page, next) = paginate(
        groups,
        opt_i64(body, "Limit"),
        60,
        opt_str(body, "NextToken"),
    )?;
    let mut out = json!({ "Groups": page.iter().map(group_json).collect::<Vec<_>>() });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

// ----- users -----

/// `[{Name, Value}]`, `sub` first, optionally only the named attributes.
pub(crate) fn attributes_json(user: &UserRow, only: Option<&[String]>) -> Value {
    let mut items = vec![json!({ "Name": "sub", "Value": user.sub })];
    for (k, v) in &user.attributes {
        if k == "sub" {
            continue;
        }
        items.push(json!({ "Name": k, "Value": v }));
    }
    if let Some(names) = only {
        items.retain(|item| {
            item.get("Name")
                .and_then(Value::as_str)
                .is_some_and(|n| names.iter().any(|w| w == n))
        });
    }
    Value::Array(items)
}

fn user_type_json(user: &UserRow, attributes_key: &str, only: Option<&[String]>) -> Value {
    let mut out = Map::new();
    out.insert("Username".into(), json!(user.username));
    out.insert(attributes_key.into(), attributes_json(user, only));
    out.insert("UserCreateDate".into(), epoch(user.created));
    out.insert("UserLastModifiedDate".into(), epoch(user.modified));
    out.insert("Enabled".into(), json!(user.enabled));
    out.insert("UserStatus".into(), json!(user.status));
    Value::Object(out)
}

/// The stored username for a new user: the sub in pools that sign in with email.
fn new_user(
    cx: &Cx<'_, '_>,
    pool: &PoolRow,
    given: &str,
    attrs: Vec<(String, String)>,
) -> Result<UserRow> {
    check_attribute_names(&attrs)?;
    let settings = PoolSettings::of(pool);
    let sub = ids::uuid();
    let mut attributes = Map::new();
    attributes.insert("sub".into(), json!(sub));
    let username = if settings.email_is_username() {
        if !given.contains('@') {
            return Err(CognitoError::invalid("Username should be an email."));
        }
        attributes.insert("email".into(), json!(given));
        sub.clone()
    } else {
        given.to_string()
    };
    for (n, v) in attrs {
        if settings.email_is_username() && n == "email" {
            continue;
        }
        attributes.insert(n, json!(v));
    }
    let email = attributes
        .get("email")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(e) = &email
        && settings.email_is_username()
        && store::user_by_email(cx.tx, &pool.id, e)?.is_some()
    {
        return Err(CognitoError::new(
            ErrorType::UsernameExistsException,
            "An account with the given email already exists.",
        ));
    }
    if cx.find_user(pool, given)?.is_some() {
        return Err(CognitoError::new(
            ErrorType::UsernameExistsException,
            "User account already exists",
        ));
    }
    Ok(UserRow {
        pool_id: pool.id.clone(),
        username,
        sub,
        email,
        status: "FORCE_CHANGE_PASSWORD".into(),
        enabled: true,
        password: None,
        attributes,
        created: cx.now,
        modified: cx.now,
        failures: 0,
        last_failure: 0,
        locked_until: 0,
    })
}

pub(crate) fn admin_create_user(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let given = req_str(body, "Username")?;
    if opt_str(body, "MessageAction") == Some("RESEND") {
        let user = cx.user(&pool, given)?;
        return Ok(json!({ "User": user_type_json(&user, "Attributes", None) }));
    }
    let attrs = attribute_list(body, "UserAttributes")?;
    let mut user = new_user(cx, &pool, given, attrs)?;
    let temporary = match opt_str(body, "TemporaryPassword") {
        Some(p) => {
            PoolSettings::of(&pool).check_password(p)?;
            p.to_string()
        }
        None => temporary_password(),
    };
    user.password = Some(hash_password(&temporary));
    store::user_put(cx.tx, &user)?;
    if opt_str(body, "MessageAction") != Some("SUPPRESS") {
        // The invitation would carry the temporary password; locally it is only logged.
        tracing::info!(user_pool_id = %pool.id, username = %user.username, "cognito user invited");
    }
    Ok(json!({ "User": user_type_json(&user, "Attributes", None) }))
}

pub(crate) fn admin_set_user_password(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let mut user = cx.user(&pool, req_str(body, "Username")?)?;
    let password = req_str(body, "Password")?;
    PoolSettings::of(&pool).check_password(password)?;
    user.password = Some(hash_password(password));
    user.status = if opt_bool(body, "Permanent") == Some(true) {
        "CONFIRMED".into()
    } else {
        "FORCE_CHANGE_PASSWORD".into()
    };
    user.failures = 0;
    user.locked_until = 0;
    user.modified = cx.now;
    store::user_put(cx.tx, &user)?;
    Ok(json!({}))
}

pub(crate) fn admin_get_user(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let user = cx.user(&pool, req_str(body, "Username")?)?;
    Ok(user_type_json(&user, "UserAttributes", None))
}

pub(crate) fn admin_delete_user(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let user = cx.user(&pool, req_str(body, "Username")?)?;
    store::user_delete(cx.tx, &pool.id, &user.username)?;
    Ok(json!({}))
}

fn set_enabled(cx: &mut Cx<'_, '_>, body: &Value, enabled: bool) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let mut user = cx.user(&pool, req_str(body, "Username")?)?;
    user.enabled = enabled;
    user.modified = cx.now;
    store::user_put(cx.tx, &user)?;
    Ok(json!({}))
}

pub(crate) fn admin_disable_user(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    set_enabled(cx, body, false)
}

pub(crate) fn admin_enable_user(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    set_enabled(cx, body, true)
}

pub(crate) fn admin_add_user_to_group(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let group_name = req_str(body, "GroupName")?;
    let user = cx.user(&pool, req_str(body, "Username")?)?;
    store::group_get(cx.tx, &pool.id, group_name)?.ok_or_else(group_not_found)?;
    store::membership_add(cx.tx, &pool.id, &user.username, group_name)?;
    Ok(json!({}))
}

pub(crate) fn admin_remove_user_from_group(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let group_name = req_str(body, "GroupName")?;
    let user = cx.user(&pool, req_str(body, "Username")?)?;
    store::group_get(cx.tx, &pool.id, group_name)?.ok_or_else(group_not_found)?;
    store::membership_remove(cx.tx, &pool.id, &user.username, group_name)?;
    Ok(json!({}))
}

pub(crate) fn admin_list_groups_for_user(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let user = cx.user(&pool, req_str(body, "Username")?)?;
    let groups = store::groups_of_user(cx.tx, &pool.id, &user.username)?;
    let (page, next) = paginate(
        groups,
        opt_i64(body, "Limit"),
        60,
        opt_str(body, "NextToken"),
    )?;
    let mut out = json!({ "Groups": page.iter().map(group_json).collect::<Vec<_>>() });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

/// `attribute = "value"` or `attribute ^= "value"`, as `ListUsers` filters.
struct Filter {
    attribute: String,
    prefix: bool,
    value: String,
}

fn parse_filter(text: &str) -> Result<Filter> {
    let bad = || CognitoError::invalid(format!("Invalid search filter: {text}"));
    let (attribute, rest, prefix) = match text.split_once("^=") {
        Some((a, r)) => (a, r, true),
        None => {
            let (a, r) = text.split_once('=').ok_or_else(bad)?;
            (a, r, false)
        }
    };
    let value = rest
        .trim()
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(bad)?;
    let attribute = attribute.trim().trim_matches('"').to_string();
    let known = [
        "username",
        "email",
        "phone_number",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "cognito:user_status",
        "status",
        "sub",
    ];
    if !known.contains(&attribute.as_str()) {
        return Err(bad());
    }
    Ok(Filter {
        attribute,
        prefix,
        value: value.to_string(),
    })
}

impl Filter {
    fn matches(&self, user: &UserRow) -> bool {
        let actual = match self.attribute.as_str() {
            "username" => Some(user.username.clone()),
            "cognito:user_status" => Some(user.status.clone()),
            "status" => Some(if user.enabled { "Enabled" } else { "Disabled" }.to_string()),
            "sub" => Some(user.sub.clone()),
            other => user.attr(other).map(str::to_string),
        };
        let Some(actual) = actual else { return false };
        // Cognito compares case-insensitively for these searches.
        let (a, v) = (actual.to_lowercase(), self.value.to_lowercase());
        if self.prefix {
            a.starts_with(&v)
        } else {
            a == v
        }
    }
}

pub(crate) fn list_users(cx: &mut Cx<'_, '_>, body: &Value) -> Result<Value> {
    let pool = cx.pool(req_str(body, "UserPoolId")?)?;
    let filter = opt_str(body, "Filter").map(parse_filter).transpose()?;
    let only = body.get("AttributesToGet").map(|v| string_list(Some(v)));
    let users: Vec<UserRow> = store::user_list(cx.tx, &pool.id)?
        .into_iter()
        .filter(|u| filter.as_ref().is_none_or(|f| f.matches(u)))
        .collect();
    let (page, next) = paginate(
        users,
        opt_i64(body, "Limit"),
        60,
        opt_str(body, "PaginationToken"),
    )?;
    let items: Vec<Value> = page
        .iter()
        .map(|u| user_type_json(u, "Attributes", only.as_deref()))
        .collect();
    let mut out = json!({ "Users": items });
    if let Some(n) = next {
        out["PaginationToken"] = json!(n);
    }
    Ok(out)
}

/// Creates a user for a template or a seed, confirmed, with a permanent password if given.
/// An existing user keeps its password and status; only missing groups are added.
pub(crate) fn ensure_user(
    cx: &mut Cx<'_, '_>,
    pool: &PoolRow,
    given: &str,
    attrs: Vec<(String, String)>,
    password: Option<&str>,
    groups: &[String],
) -> Result<UserRow> {
    let user = match cx.find_user(pool, given)? {
        Some(u) => u,
        None => {
            let mut u = new_user(cx, pool, given, attrs)?;
            u.status = if password.is_some() || PoolSettings::of(pool).allows_factor("EMAIL_OTP") {
                "CONFIRMED".into()
            } else {
                "FORCE_CHANGE_PASSWORD".into()
            };
            if let Some(p) = password {
                PoolSettings::of(pool).check_password(p)?;
                u.password = Some(hash_password(p));
            }
            if u.email.is_some() && !u.attributes.contains_key("email_verified") {
                u.attributes.insert("email_verified".into(), json!("true"));
            }
            store::user_put(cx.tx, &u)?;
            u
        }
    };
    for g in groups {
        store::group_get(cx.tx, &pool.id, g)?.ok_or_else(group_not_found)?;
        store::membership_add(cx.tx, &pool.id, &user.username, g)?;
    }
    Ok(user)
}
