//! The config API: public reads, admin updates of limits, menu and availability, and the
//! store's open / paused / closed state. Every accepted change emits
//! `ConfigService.ConfigChanged`.

use super::{MAX_ATTEMPTS, UseCaseError, require_admin};
use crate::config::{ConfigUpdate, ConfigView, StoreConfig, StoreState};
use crate::events::{ConfigChanged, Event};
use crate::identity::Principal;
use crate::ids::EventId;
use crate::ports::{Clock, ConfigRepository, EventPublisher, StoreError};

/// The ports of the config use cases.
pub struct ConfigPorts<'a, S, E, C> {
    pub store: &'a S,
    pub events: &'a E,
    pub clock: &'a C,
}

/// `GET /api/events/{eventId}/config`: public, no sign-in needed.
pub async fn get_config(
    store: &impl ConfigRepository,
    event: &EventId,
) -> Result<ConfigView, UseCaseError> {
    store
        .get(event)
        .await?
        .map(|c| c.view())
        .ok_or_else(|| UseCaseError::EventNotFound(event.clone()))
}

/// Reads, changes and conditionally writes a config, retrying on concurrent writers; emits
/// `ConfigChanged` when something changed.
async fn change_config<S, E, C, F>(
    ports: &ConfigPorts<'_, S, E, C>,
    event: &EventId,
    mut change: F,
) -> Result<ConfigView, UseCaseError>
where
    S: ConfigRepository,
    E: EventPublisher,
    C: Clock,
    F: FnMut(&StoreConfig) -> Result<Option<StoreConfig>, UseCaseError>,
{
    for _ in 0..MAX_ATTEMPTS {
        let current = ports
            .store
            .get(event)
            .await?
            .ok_or_else(|| UseCaseError::EventNotFound(event.clone()))?;
        let Some(next) = change(&current)? else {
            return Ok(current.view());
        };
        match ports.store.put(&next, Some(current.version)).await {
            Ok(()) => {
                ports
                    .events
                    .publish(&[Event::ConfigChanged(ConfigChanged::of(&next))])
                    .await?;
                return Ok(next.view());
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(UseCaseError::Contention)
}

/// Admin `PUT /api/events/{eventId}/config`: a partial update, validated as a whole.
pub async fn update_config<S, E, C>(
    ports: &ConfigPorts<'_, S, E, C>,
    principal: &Principal,
    event: &EventId,
    update: &ConfigUpdate,
) -> Result<ConfigView, UseCaseError>
where
    S: ConfigRepository,
    E: EventPublisher,
    C: Clock,
{
    require_admin(principal)?;
    change_config(ports, event, |c| {
        Ok(Some(c.apply(update, ports.clock.now())?))
    })
    .await
}

/// Admin `PUT /api/events/{eventId}/store`: open, pause or close. Setting the current state
/// again changes nothing and emits nothing.
pub async fn set_store_state<S, E, C>(
    ports: &ConfigPorts<'_, S, E, C>,
    principal: &Principal,
    event: &EventId,
    state: StoreState,
) -> Result<ConfigView, UseCaseError>
where
    S: ConfigRepository,
    E: EventPublisher,
    C: Clock,
{
    require_admin(principal)?;
    change_config(ports, event, |c| {
        Ok((c.store_state() != state).then(|| c.with_store_state(state, ports.clock.now())))
    })
    .await
}

/// Admin: a new event with the default menu and limits, adjusted by `initial`. Never
/// overwrites an existing event.
pub async fn create_event<S, E, C>(
    ports: &ConfigPorts<'_, S, E, C>,
    principal: &Principal,
    event: &EventId,
    initial: Option<&ConfigUpdate>,
) -> Result<ConfigView, UseCaseError>
where
    S: ConfigRepository,
    E: EventPublisher,
    C: Clock,
{
    require_admin(principal)?;
    let now = ports.clock.now();
    let mut config = StoreConfig::new_event(event.clone(), now);
    if let Some(update) = initial.filter(|u| **u != ConfigUpdate::default()) {
        config = config.apply(update, now)?;
        config.version = 1;
    }
    match ports.store.put(&config, None).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(UseCaseError::EventExists(event.clone())),
        Err(e) => return Err(e.into()),
    }
    ports
        .events
        .publish(&[Event::ConfigChanged(ConfigChanged::of(&config))])
        .await?;
    Ok(config.view())
}

/// First start: seeds event `default` with the reference's menu unless it exists. Returns
/// whether it seeded; a restart never resets live data.
pub async fn seed_default_event(
    store: &impl ConfigRepository,
    clock: &impl Clock,
) -> Result<bool, UseCaseError> {
    match store
        .put(&StoreConfig::seed_default(clock.now()), None)
        .await
    {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
