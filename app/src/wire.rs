//! Wire types (DTOs) shared by the server functions and the browser.
//!
//! Plain serde structs only: nothing here may carry a credential, because every value of these
//! types can be serialized into the page or a server-function response.

use serde::{Deserialize, Serialize};

/// What the page chrome needs to know about this portal instance (Backstage's `app.*` keys).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalInfo {
    /// `app.title`: shown in the header and in every page title.
    pub title: String,
    /// `app.baseUrl`: the public URL of the portal, used for absolute links.
    pub base_url: String,
}
