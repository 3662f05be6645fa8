//! Table definitions: what CreateTable accepted, validated once, and the resolved key
//! schema of the table and each secondary index that every operation consults.
//!
//! Also the key rules every write and read obeys: key attributes present with their declared
//! type, non-empty, within DynamoDB's size limits; and the projection that decides what an
//! index row holds.

use crate::error::{Error, Result};
use crate::model::{
    AttributeDefinition, CreateTableInput, IndexDescription, IndexSpec, KeySchemaElement,
    Projection, ProvisionedThroughput, ProvisionedThroughputDescription,
};
use crate::value::{AttributeValue, Item, ScalarType, encode_key};
use serde::{Deserialize, Serialize};

/// What is stored for a table (as JSON in the `tables` table).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableDef {
    pub name: String,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchemaElement>,
    pub lsis: Vec<IndexDef>,
    pub gsis: Vec<IndexDef>,
    pub billing_mode: String,
    pub provisioned: Option<ProvisionedThroughput>,
    pub created: f64,
    pub table_id: String,
    pub stream_specification: Option<serde_json::Value>,
    pub deletion_protection: bool,
    pub next_index: i64,
    /// The attribute UpdateTimeToLive named, when TTL is enabled.
    #[serde(default)]
    pub ttl_attribute: Option<String>,
    #[serde(default)]
    pub tags: Vec<crate::model::Tag>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexDef {
    pub name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub projection: Projection,
    pub provisioned: Option<ProvisionedThroughput>,
    /// Index id, unique across the database (rows in `index_items` carry it).
    pub iid: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProjectionKind {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct KeyAttr {
    pub name: String,
    pub ty: ScalarType,
}

#[derive(Debug, Clone)]
pub struct IndexMeta {
    pub name: String,
    pub iid: i64,
    pub global: bool,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    pub projection: ProjectionKind,
}

/// A table as operations see it: its definition plus resolved keys and indexes.
#[derive(Debug, Clone)]
pub struct TableMeta {
    pub tid: i64,
    pub def: TableDef,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    pub indexes: Vec<IndexMeta>,
}

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "000000000000";

impl TableMeta {
    pub fn from_def(tid: i64, def: TableDef) -> Result<TableMeta> {
        let (hash, range) = resolve_keys(&def.key_schema, &def.attribute_definitions)?;
        let mut indexes = Vec::new();
        for (global, list) in [(false, &def.lsis), (true, &def.gsis)] {
            for idx in list {
                let (h, r) = resolve_keys(&idx.key_schema, &def.attribute_definitions)?;
                indexes.push(IndexMeta {
                    name: idx.name.clone(),
                    iid: idx.iid,
                    global,
                    hash: h,
                    range: r,
                    projection: projection_kind(&idx.projection),
                });
            }
        }
        Ok(TableMeta {
            tid,
            def,
            hash,
            range,
            indexes,
        })
    }

    pub fn arn(&self) -> String {
        format!(
            "arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{}",
            self.def.name
        )
    }

    pub fn index(&self, name: &str) -> Result<&IndexMeta> {
        // The API reference documents a nonexistent index as ResourceNotFoundException.
        self.indexes.iter().find(|i| i.name == name).ok_or_else(|| {
            Error::ResourceNotFound(format!(
                "Requested resource not found: The table does not have the specified index: {name}"
            ))
        })
    }

    pub fn is_key_attr(&self, name: &str) -> bool {
        self.hash.name == name || self.range.as_ref().is_some_and(|r| r.name == name)
    }

    /// Checks a Key parameter (GetItem, UpdateItem, …): exactly the key attributes, typed.
    pub fn check_key(&self, key: &Item) -> Result<()> {
        let expected = 1 + usize::from(self.range.is_some());
        if key.len() != expected {
            return Err(Error::validation(
                "The provided key element does not match the schema",
            ));
        }
        for attr in std::iter::once(&self.hash).chain(self.range.iter()) {
            match key.get(&attr.name) {
                Some(v) if v.scalar_type() == Some(attr.ty) => check_key_value(&attr.name, v)?,
                _ => {
                    return Err(Error::validation(
                        "The provided key element does not match the schema",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks a whole item about to be written: table keys present and typed, index keys
    /// typed where present.
    pub fn check_item(&self, item: &Item) -> Result<()> {
        for attr in std::iter::once(&self.hash).chain(self.range.iter()) {
            match item.get(&attr.name) {
                None => {
                    return Err(Error::validation(format!(
                        "One or more parameter values were invalid: Missing the key {} in the item",
                        attr.name
                    )));
                }
                Some(v) if v.scalar_type() != Some(attr.ty) => {
                    return Err(Error::validation(format!(
                        "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                        attr.name,
                        attr.ty.name(),
                        v.type_name()
                    )));
                }
                Some(v) => check_key_value(&attr.name, v)?,
            }
        }
        for idx in &self.indexes {
            for attr in std::iter::once(&idx.hash).chain(idx.range.iter()) {
                if let Some(v) = item.get(&attr.name) {
                    if v.scalar_type() != Some(attr.ty) {
                        return Err(Error::validation(format!(
                            "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                            attr.name,
                            attr.ty.name(),
                            v.type_name(),
                            idx.name
                        )));
                    }
                    if is_empty_scalar(v) {
                        return Err(Error::validation(format!(
                            "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {}, IndexKey: {}",
                            idx.name, attr.name
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The encoded primary key of an item or key map (already checked).
    pub fn encode_primary(&self, item: &Item) -> (Vec<u8>, Vec<u8>) {
        let mut pk = Vec::with_capacity(24);
        if let Some(v) = item.get(&self.hash.name) {
            encode_key(v, &mut pk);
        }
        let mut sk = Vec::new();
        if let Some(r) = &self.range
            && let Some(v) = item.get(&r.name)
        {
            encode_key(v, &mut sk);
        }
        (pk, sk)
    }

    /// The key attributes of an item (for LastEvaluatedKey and KEYS_ONLY projections).
    pub fn key_of(&self, item: &Item) -> Item {
        let mut key = Item::with_capacity(2);
        for attr in std::iter::once(&self.hash).chain(self.range.iter()) {
            if let Some(v) = item.get(&attr.name) {
                key.insert(attr.name.clone(), v.clone());
            }
        }
        key
    }

    pub fn describe_index(&self, idx: &IndexMeta, count: i64, size: i64) -> IndexDescription {
        let def = self
            .def
            .lsis
            .iter()
            .chain(self.def.gsis.iter())
            .find(|d| d.iid == idx.iid);
        IndexDescription {
            index_name: idx.name.clone(),
            key_schema: def.map(|d| d.key_schema.clone()).unwrap_or_default(),
            projection: def.map(|d| d.projection.clone()).unwrap_or_default(),
            index_status: idx.global.then(|| "ACTIVE".to_string()),
            provisioned_throughput: if idx.global {
                Some(throughput(def.and_then(|d| d.provisioned.as_ref())))
            } else {
                None
            },
            index_size_bytes: size,
            item_count: count,
            index_arn: format!("{}/index/{}", self.arn(), idx.name),
        }
    }
}

pub fn throughput(p: Option<&ProvisionedThroughput>) -> ProvisionedThroughputDescription {
    ProvisionedThroughputDescription {
        read_capacity_units: p.map_or(0, |p| p.read_capacity_units),
        write_capacity_units: p.map_or(0, |p| p.write_capacity_units),
        number_of_decreases_today: 0,
    }
}

fn is_empty_scalar(v: &AttributeValue) -> bool {
    match v {
        AttributeValue::S(s) => s.is_empty(),
        AttributeValue::B(b) => b.is_empty(),
        _ => false,
    }
}

fn check_key_value(name: &str, v: &AttributeValue) -> Result<()> {
    if is_empty_scalar(v) {
        return Err(Error::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {name}",
            if matches!(v, AttributeValue::S(_)) {
                "string"
            } else {
                "binary"
            }
        )));
    }
    Ok(())
}

/// Checks partition/sort key sizes (2048 and 1024 bytes).
pub fn check_key_sizes(meta: &TableMeta, item: &Item) -> Result<()> {
    if let Some(v) = item.get(&meta.hash.name)
        && key_len(v) > 2048
    {
        return Err(Error::validation(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if let Some(r) = &meta.range
        && let Some(v) = item.get(&r.name)
        && key_len(v) > 1024
    {
        return Err(Error::validation(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

fn key_len(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        _ => 0,
    }
}

fn projection_kind(p: &Projection) -> ProjectionKind {
    match p.projection_type.as_deref() {
        Some("KEYS_ONLY") => ProjectionKind::KeysOnly,
        Some("INCLUDE") => {
            ProjectionKind::Include(p.non_key_attributes.clone().unwrap_or_default())
        }
        _ => ProjectionKind::All,
    }
}

fn resolve_keys(
    schema: &[KeySchemaElement],
    defs: &[AttributeDefinition],
) -> Result<(KeyAttr, Option<KeyAttr>)> {
    let find = |name: &str| -> Result<ScalarType> {
        let def = defs.iter().find(|d| d.attribute_name == name).ok_or_else(|| {
            Error::validation(format!(
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{name}], AttributeDefinitions: [{}]",
                defs.iter().map(|d| d.attribute_name.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        scalar_type(&def.attribute_type)
    };
    let mut hash = None;
    let mut range = None;
    for (i, el) in schema.iter().enumerate() {
        match (el.key_type.as_str(), i) {
            ("HASH", 0) => {
                hash = Some(KeyAttr {
                    name: el.attribute_name.clone(),
                    ty: find(&el.attribute_name)?,
                });
            }
            ("RANGE", 1) => {
                range = Some(KeyAttr {
                    name: el.attribute_name.clone(),
                    ty: find(&el.attribute_name)?,
                });
            }
            _ => {
                return Err(Error::validation(
                    "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
                ));
            }
        }
    }
    if schema.len() > 2 || schema.is_empty() {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '{}' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2",
            schema.len()
        )));
    }
    let hash = hash.ok_or_else(|| {
        Error::validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    })?;
    if range.as_ref().is_some_and(|r| r.name == hash.name) {
        return Err(Error::validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ));
    }
    Ok((hash, range))
}

fn scalar_type(t: &str) -> Result<ScalarType> {
    match t {
        "S" => Ok(ScalarType::S),
        "N" => Ok(ScalarType::N),
        "B" => Ok(ScalarType::B),
        other => Err(Error::validation(format!(
            "1 validation error detected: Value '{other}' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"
        ))),
    }
}

pub fn check_table_name(name: &str) -> Result<()> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if name.len() < 3 || name.len() > 255 || !ok_chars {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '{name}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and length between 3 and 255"
        )));
    }
    Ok(())
}

fn check_projection(p: &Projection) -> Result<()> {
    match p.projection_type.as_deref() {
        Some("ALL") | Some("KEYS_ONLY") | None => {
            if p.non_key_attributes.is_some() {
                return Err(Error::validation(
                    "One or more parameter values were invalid: ProjectionType is ALL, but NonKeyAttributes is specified",
                ));
            }
            Ok(())
        }
        Some("INCLUDE") => Ok(()),
        Some(other) => Err(Error::validation(format!(
            "1 validation error detected: Value '{other}' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]"
        ))),
    }
}

/// Validates a CreateTable request and builds the definition to store.
pub fn table_def_from_create(
    input: &CreateTableInput,
    tid_hint: i64,
    now: f64,
) -> Result<TableDef> {
    check_table_name(&input.table_name)?;
    let (hash, _range) = resolve_keys(&input.key_schema, &input.attribute_definitions)?;
    let billing = input
        .billing_mode
        .clone()
        .unwrap_or_else(|| "PROVISIONED".to_string());
    match billing.as_str() {
        "PROVISIONED" => {
            if input.provisioned_throughput.is_none() {
                return Err(Error::validation(
                    "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
                ));
            }
        }
        "PAY_PER_REQUEST" => {
            if input.provisioned_throughput.is_some() {
                return Err(Error::validation(
                    "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
        }
        other => {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
            )));
        }
    }
    let mut next_index = 0;
    let mut lsis = Vec::new();
    let mut names = std::collections::HashSet::new();
    for spec in input.local_secondary_indexes.iter().flatten() {
        check_projection(&spec.projection)?;
        let (h, r) = resolve_keys(&spec.key_schema, &input.attribute_definitions)?;
        if h.name != hash.name || r.is_none() {
            return Err(Error::validation(
                "One or more parameter values were invalid: Index KeySchema does not have a range key for index: ".to_string()
                    + &spec.index_name
                    + " or the hash key does not match the table's hash key",
            ));
        }
        if !names.insert(spec.index_name.clone()) {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Duplicate index name: {}",
                spec.index_name
            )));
        }
        lsis.push(index_def(spec, tid_hint, &mut next_index));
    }
    if lsis.len() > 5 {
        return Err(Error::validation(
            "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5",
        ));
    }
    let mut gsis = Vec::new();
    for spec in input.global_secondary_indexes.iter().flatten() {
        check_projection(&spec.projection)?;
        resolve_keys(&spec.key_schema, &input.attribute_definitions)?;
        if billing == "PROVISIONED" && spec.provisioned_throughput.is_none() {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: ProvisionedThroughput is not specified for index: {}",
                spec.index_name
            )));
        }
        if !names.insert(spec.index_name.clone()) {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Duplicate index name: {}",
                spec.index_name
            )));
        }
        gsis.push(index_def(spec, tid_hint, &mut next_index));
    }
    if gsis.len() > 20 {
        return Err(Error::validation(
            "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20",
        ));
    }
    // Every attribute definition must be used by some key.
    for d in &input.attribute_definitions {
        let used = input
            .key_schema
            .iter()
            .chain(lsis.iter().flat_map(|i| i.key_schema.iter()))
            .chain(gsis.iter().flat_map(|i| i.key_schema.iter()))
            .any(|k| k.attribute_name == d.attribute_name);
        if !used {
            return Err(Error::validation(
                "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
            ));
        }
    }
    Ok(TableDef {
        name: input.table_name.clone(),
        attribute_definitions: input.attribute_definitions.clone(),
        key_schema: input.key_schema.clone(),
        lsis,
        gsis,
        billing_mode: billing,
        provisioned: input.provisioned_throughput.clone(),
        created: now,
        table_id: format!(
            "{:08x}-0000-4000-8000-{:012x}",
            tid_hint,
            (now * 1000.0) as u64
        ),
        stream_specification: input.stream_specification.clone(),
        deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
        next_index,
        ttl_attribute: None,
        tags: Vec::new(),
    })
}

/// Builds the stored definition of an index; ids are `tid << 20 | n`.
pub fn index_def(spec: &IndexSpec, tid: i64, next_index: &mut i64) -> IndexDef {
    let iid = (tid << 20) | *next_index;
    *next_index += 1;
    let mut projection = spec.projection.clone();
    if projection.projection_type.is_none() {
        projection.projection_type = Some("ALL".to_string());
    }
    IndexDef {
        name: spec.index_name.clone(),
        key_schema: spec.key_schema.clone(),
        projection,
        provisioned: spec.provisioned_throughput.clone(),
        iid,
    }
}

impl IndexMeta {
    /// The index key of an item, or None when the item lacks an index key attribute (then
    /// the item is simply not in the index).
    pub fn encode(&self, item: &Item) -> Option<(Vec<u8>, Vec<u8>)> {
        let h = item.get(&self.hash.name)?;
        if h.scalar_type() != Some(self.hash.ty) {
            return None;
        }
        let mut pk = Vec::with_capacity(24);
        encode_key(h, &mut pk);
        let mut sk = Vec::new();
        if let Some(r) = &self.range {
            let v = item.get(&r.name)?;
            if v.scalar_type() != Some(r.ty) {
                return None;
            }
            encode_key(v, &mut sk);
        }
        Some((pk, sk))
    }

    /// What the index keeps of an item.
    pub fn project(&self, table: &TableMeta, item: &Item) -> Item {
        match &self.projection {
            ProjectionKind::All => item.clone(),
            ProjectionKind::KeysOnly | ProjectionKind::Include(_) => {
                let mut out = table.key_of(item);
                for attr in std::iter::once(&self.hash).chain(self.range.iter()) {
                    if let Some(v) = item.get(&attr.name) {
                        out.insert(attr.name.clone(), v.clone());
                    }
                }
                if let ProjectionKind::Include(names) = &self.projection {
                    for n in names {
                        if let Some(v) = item.get(n) {
                            out.insert(n.clone(), v.clone());
                        }
                    }
                }
                out
            }
        }
    }

    /// Index and table key attributes of an index row (its LastEvaluatedKey).
    pub fn key_of(&self, table: &TableMeta, item: &Item) -> Item {
        let mut key = table.key_of(item);
        for attr in std::iter::once(&self.hash).chain(self.range.iter()) {
            if let Some(v) = item.get(&attr.name) {
                key.insert(attr.name.clone(), v.clone());
            }
        }
        key
    }
}
