//! The realtime publisher on the IoT data plane: `Publish`, QoS 1, to one topic.

use aws_sdk_iotdataplane::Client;
use aws_sdk_iotdataplane::error::DisplayErrorContext;
use aws_sdk_iotdataplane::primitives::Blob;
use presso_core::events::MqttMessage;
use presso_core::ports::{PublishError, RealtimePublisher};
use presso_core::topics::Topic;

#[derive(Debug, Clone)]
pub struct IotDataPublisher {
    client: Client,
}

impl IotDataPublisher {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// On AWS the data plane has an account-specific endpoint (`IOT_DATA_ENDPOINT`, resolved by
    /// the template's custom resource); locally `AWS_ENDPOINT_URL` already points at presso.
    pub fn from_config(config: &aws_config::SdkConfig, endpoint: Option<&str>) -> Self {
        let mut builder = aws_sdk_iotdataplane::config::Builder::from(config);
        if let Some(url) = endpoint.filter(|e| !e.is_empty()) {
            let url = if url.contains("://") {
                url.to_owned()
            } else {
                format!("https://{url}")
            };
            builder = builder.endpoint_url(url);
        }
        Self::new(Client::from_conf(builder.build()))
    }
}

impl RealtimePublisher for IotDataPublisher {
    async fn publish(&self, topic: &Topic, message: &MqttMessage) -> Result<(), PublishError> {
        let payload = message
            .to_bytes()
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;
        self.client
            .publish()
            .topic(topic.name())
            .qos(1)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| PublishError::Unavailable(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
