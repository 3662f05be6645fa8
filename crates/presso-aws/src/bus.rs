//! The event publisher on EventBridge: `PutEvents` on the app's bus, source
//! [`presso_core::events::SOURCE`].

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use presso_core::events::{BUS_NAME, Event, SOURCE};
use presso_core::ports::{EventPublisher, PublishError};

use crate::settings::Env;

/// `PutEvents` takes at most ten entries per call.
const MAX_ENTRIES: usize = 10;

#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus_name: String,
}

impl EventBridgePublisher {
    pub fn new(client: Client, bus_name: impl Into<String>) -> Self {
        Self {
            client,
            bus_name: bus_name.into(),
        }
    }

    /// `BUS_NAME` from the environment, [`presso_core::events::BUS_NAME`] by default.
    pub fn from_config(config: &aws_config::SdkConfig, env: &Env) -> Self {
        let bus = env
            .get("BUS_NAME")
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| BUS_NAME.to_owned());
        Self::new(Client::new(config), bus)
    }

    pub fn bus_name(&self) -> &str {
        &self.bus_name
    }
}

impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[Event]) -> Result<(), PublishError> {
        for chunk in events.chunks(MAX_ENTRIES) {
            let mut request = self.client.put_events();
            for event in chunk {
                let detail = event
                    .detail()
                    .map_err(|e| PublishError::Unavailable(e.to_string()))?;
                request = request.entries(
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(SOURCE)
                        .detail_type(event.detail_type())
                        .detail(detail.to_string())
                        .build(),
                );
            }
            let out = request
                .send()
                .await
                .map_err(|e| PublishError::Unavailable(DisplayErrorContext(e).to_string()))?;
            if out.failed_entry_count() > 0 {
                let codes: Vec<String> = out
                    .entries()
                    .iter()
                    .filter_map(|e| e.error_code().map(str::to_owned))
                    .collect();
                return Err(PublishError::Unavailable(format!(
                    "{} of {} entries failed: {}",
                    out.failed_entry_count(),
                    chunk.len(),
                    codes.join(", ")
                )));
            }
        }
        Ok(())
    }
}
