//! The server's implementation of [`app::backend::Backend`]: what server functions can reach.

use app::backend::Backend;
use app::wire::PortalInfo;

use crate::settings::Settings;

/// Backend state shared by every request.
#[derive(Debug)]
pub struct PortalBackend {
    info: PortalInfo,
}

impl PortalBackend {
    /// Builds the backend from validated settings.
    pub fn new(settings: &Settings) -> Self {
        Self {
            info: PortalInfo {
                title: settings.app.title.clone(),
                base_url: settings.app.base_url.clone(),
            },
        }
    }
}

impl Backend for PortalBackend {
    fn portal_info(&self) -> PortalInfo {
        self.info.clone()
    }
}
