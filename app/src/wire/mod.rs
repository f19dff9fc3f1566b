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
    /// The viewer's colour theme from the `greenroom_theme` cookie: `light`, `dark`, or empty
    /// for the system's (`prefers-color-scheme`).
    #[serde(default)]
    pub theme: String,
}

/// Who is looking: the signed-in user (or the guest of a portal without sign-in), as the server
/// resolved it for this request. The server puts it into each request's extensions; server
/// functions read it from there, and the user menu shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// The user entity ref (`user:default/jane`), or empty for a service (static token).
    pub entity_ref: String,
    /// The user and the groups it is a member of (Backstage's `ownershipEntityRefs`).
    pub ownership_refs: Vec<String>,
    /// Name to show (profile display name, else the entity name).
    pub display_name: String,
    /// Email, when known.
    pub email: Option<String>,
    /// Picture URL, when the identity provider or the catalog gives one.
    pub picture: Option<String>,
    /// The provider that signed the user in (`oidc`, `oauth2Proxy`, `guest`), or `static` for
    /// a service token.
    pub provider: String,
    /// Whether the portal requires sign-in (false: everyone is the guest, nothing to sign out).
    pub sign_in_required: bool,
}

/// Filters of the catalog list, as they appear in its URL (`/catalog?kind=component&...`).
/// Empty strings mean "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogFilters {
    /// `kind`; the page defaults to `component` when the parameter is absent.
    pub kind: String,
    /// `type` (spec.type).
    pub entity_type: String,
    /// `owner` (a canonical ref such as `group:default/team-a`).
    pub owner: String,
    /// `lifecycle`.
    pub lifecycle: String,
    /// `tag`.
    pub tag: String,
    /// `namespace`.
    pub namespace: String,
    /// `q`: free text, matched against name, title, description, tags and owner.
    pub text: String,
    /// `user`: `owned` for what the viewer or one of its groups owns (Backstage's user
    /// filter); empty for all.
    pub user: String,
    /// `page`, from 1.
    pub page: usize,
}

/// A link to another entity (or to where it would be if it existed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityLink {
    /// Canonical ref, e.g. `group:default/team-a`.
    pub entity_ref: String,
    /// Short label: the name, or `kind:name` / `namespace/name` when needed to be unambiguous.
    pub label: String,
    /// `/catalog/:namespace/:kind/:name`.
    pub href: String,
    /// False for a dangling reference (the target is not in the catalog).
    pub exists: bool,
}

/// One row of the catalog list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityRow {
    /// Link to the entity itself.
    pub link: EntityLink,
    /// `metadata.title`.
    pub title: Option<String>,
    /// `kind` as written.
    pub kind: String,
    /// `spec.type`.
    pub entity_type: Option<String>,
    /// `spec.owner`.
    pub owner: Option<EntityLink>,
    /// `spec.lifecycle`.
    pub lifecycle: Option<String>,
    /// `spec.system`.
    pub system: Option<EntityLink>,
    /// `metadata.description`.
    pub description: Option<String>,
    /// `metadata.tags`.
    pub tags: Vec<String>,
    /// Whether it has Kubernetes annotations (`backstage.io/kubernetes-id` or
    /// `-label-selector`) and the portal reads clusters: the health column applies.
    #[serde(default)]
    pub kubernetes: bool,
    /// Its health from the watch cache (the catalog list's health column), if it applies.
    #[serde(default)]
    pub health: Option<clusters::RowHealth>,
}

/// Values a filter can take, with how many entities have each.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValues {
    /// `(value, count)`, sorted by value.
    pub values: Vec<(String, usize)>,
}

/// One page of the catalog list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogListPage {
    /// The rows of this page.
    pub rows: Vec<EntityRow>,
    /// Matching entities in total.
    pub total: usize,
    /// Current page, from 1.
    pub page: usize,
    /// Rows per page.
    pub page_size: usize,
    /// Options for the kind filter (counted over the whole catalog).
    pub kinds: FacetValues,
    /// Options for the other filters (counted within the selected kind).
    pub types: FacetValues,
    /// Owners.
    pub owners: FacetValues,
    /// Lifecycles.
    pub lifecycles: FacetValues,
    /// Tags.
    pub tags: FacetValues,
    /// Namespaces.
    pub namespaces: FacetValues,
    /// Number of catalog problems (invalid files or entities), for a banner linking to them.
    pub problem_count: usize,
    /// Entities passing every other filter that the viewer owns (the "Owned" option's count).
    pub owned_count: usize,
    /// Entities passing every other filter (the "All" option's count).
    pub all_count: usize,
    /// How often the list refreshes while it shows a health column (0: no health column).
    #[serde(default)]
    pub health_refresh_ms: u64,
}

/// A `metadata.links` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalLink {
    /// `url`.
    pub url: String,
    /// `title`, or the URL.
    pub title: String,
    /// `icon` (Backstage icon id such as `dashboard`, `docs`, `github`), if any.
    pub icon: Option<String>,
}

/// Relations of one type, e.g. all `ownerOf` targets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationGroup {
    /// Relation type as Backstage names it (`ownedBy`, `hasPart`, ...).
    pub relation_type: String,
    /// The targets.
    pub targets: Vec<EntityLink>,
}

/// An API's definition: its text, and the same rendered for people where the format is known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiDefinition {
    /// `spec.type`: openapi, asyncapi, graphql, grpc, ...
    pub api_type: String,
    /// `spec.definition`, as text.
    pub text: String,
    /// The definition rendered for people, as HTML the server produced from a
    /// [`RenderedDefinition`] (escaped by Leptos's renderer; the browser bundle never carries the
    /// rendering code); `None` for a format not rendered.
    pub html: Option<String>,
    /// Why the definition could not be rendered, or what was left out (it is still shown as
    /// text).
    pub problem: Option<String>,
}

/// An API definition read for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RenderedDefinition {
    /// OpenAPI 3.x: operations by path, and the component schemas.
    OpenApi(OpenApiDoc),
    /// AsyncAPI 2.x/3.x: channels and their messages.
    AsyncApi(AsyncApiDoc),
    /// GraphQL SDL: the schema's types.
    GraphQl(Vec<SchemaType>),
    /// Source with highlighting (gRPC `.proto`).
    Source(Vec<SourceToken>),
}

/// The head of an API document (`info`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiInfo {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: Option<String>,
    /// Server URLs.
    pub servers: Vec<String>,
}

/// An OpenAPI document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenApiDoc {
    /// `openapi` (the format version).
    pub version: String,
    /// Title, version, description and servers.
    pub info: ApiInfo,
    /// Every operation, in document order.
    pub operations: Vec<ApiOperation>,
    /// `components.schemas`.
    pub schemas: Vec<SchemaType>,
}

/// One operation: a method on a path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiOperation {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path template.
    pub path: String,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// Parameters (path, query, header, cookie); `place` says where.
    pub parameters: Vec<SchemaField>,
    /// The request body's media types and schema, e.g. `application/json: Cart`.
    pub request_body: Vec<String>,
    /// Responses: status code and description (with the schema, when there is one).
    pub responses: Vec<(String, String)>,
}

/// A named type with fields: a schema, a GraphQL type, a message payload.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaType {
    /// What it is: `object`, `enum`, `type`, `input`, `interface`, `union`, `scalar`, ...
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its fields (enum values: the values, with an empty type).
    pub fields: Vec<SchemaField>,
}

/// A field, parameter or argument.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaField {
    /// Its name.
    pub name: String,
    /// Where it goes (`path`, `query`, `header`; empty for a field).
    pub place: String,
    /// Its type, written for people (`string`, `array of Item`, `[Product!]!`).
    pub type_text: String,
    /// Whether it is required.
    pub required: bool,
    /// Its description.
    pub description: Option<String>,
}

/// An AsyncAPI document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncApiDoc {
    /// `asyncapi` (the format version).
    pub version: String,
    /// Title, version, description and servers.
    pub info: ApiInfo,
    /// The channels, in document order.
    pub channels: Vec<ApiChannel>,
}

/// An AsyncAPI channel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiChannel {
    /// The channel name or address.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// What applications do on it (`publish`, `subscribe`, `send`, `receive`).
    pub actions: Vec<String>,
    /// Its messages, each with its payload's fields.
    pub messages: Vec<SchemaType>,
}

/// How a piece of highlighted source is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenClass {
    /// Plain text and punctuation.
    Plain,
    /// A keyword (`message`, `service`, `rpc`).
    Keyword,
    /// A built-in or declared type name.
    Type,
    /// A string literal.
    Str,
    /// A number.
    Number,
    /// A comment.
    Comment,
}

/// A run of highlighted source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceToken {
    /// How it is shown.
    pub class: TokenClass,
    /// The text.
    pub text: String,
}

/// Contact details from `spec.profile` (Users and Groups).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// `displayName`.
    pub display_name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `picture` (an http(s) URL; anything else is dropped).
    pub picture: Option<String>,
}

/// A person in a group's member list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The User.
    pub link: EntityLink,
    /// Their profile.
    pub profile: Profile,
}

/// How many entities of one kind and type someone owns, linking to that slice of the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnershipCount {
    /// Kind, as written.
    pub kind: String,
    /// `spec.type`, if any.
    pub entity_type: Option<String>,
    /// How many.
    pub count: usize,
    /// The catalog list filtered to them.
    pub href: String,
}

/// What one owner owns, counted by kind and type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    /// The owner (the entity itself, or one of a user's groups).
    pub owner: EntityLink,
    /// Counts, by kind then type.
    pub counts: Vec<OwnershipCount>,
}

/// What the page of each kind shows beyond the common header and about card.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KindDetail {
    /// Nothing beyond the common parts.
    #[default]
    Plain,
    /// A Component: its APIs and dependencies (the API and Dependencies tabs).
    Component {
        /// `providesApis`.
        provided_apis: Vec<EntityRow>,
        /// `consumesApis`.
        consumed_apis: Vec<EntityRow>,
        /// `dependsOn`.
        depends_on: Vec<EntityRow>,
        /// What depends on it (`dependencyOf`).
        dependents: Vec<EntityRow>,
    },
    /// An API: who provides and who consumes it.
    Api {
        /// `apiProvidedBy`.
        providers: Vec<EntityRow>,
        /// `apiConsumedBy`.
        consumers: Vec<EntityRow>,
    },
    /// A Group: profile, place in the tree, members and what it owns.
    Group {
        /// `spec.profile`.
        profile: Profile,
        /// `childOf`.
        parent: Option<EntityLink>,
        /// `parentOf`.
        children: Vec<EntityLink>,
        /// `hasMember`.
        members: Vec<Member>,
        /// What the group owns directly.
        ownership: Ownership,
    },
    /// A User: profile, groups, and what they own directly and through their groups.
    User {
        /// `spec.profile`.
        profile: Profile,
        /// `memberOf`.
        groups: Vec<EntityLink>,
        /// Owned directly (first), then through each group.
        ownership: Vec<Ownership>,
    },
    /// A System: its parts.
    System {
        /// Components (`hasPart`).
        components: Vec<EntityRow>,
        /// APIs (`hasPart`).
        apis: Vec<EntityRow>,
        /// Resources (`hasPart`).
        resources: Vec<EntityRow>,
    },
    /// A Domain: its systems.
    Domain {
        /// Systems (`hasPart`).
        systems: Vec<EntityRow>,
    },
    /// A Resource: who depends on it.
    Resource {
        /// `dependencyOf`.
        dependents: Vec<EntityRow>,
    },
    /// A kind the portal has no page for: every `spec` field.
    Other {
        /// `spec`, flattened to dotted paths and values.
        spec: Vec<(String, String)>,
    },
}

/// Everything the entity page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityDetail {
    /// The entity itself.
    pub link: EntityLink,
    /// `kind` as written.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.title`.
    pub title: Option<String>,
    /// `metadata.description`.
    pub description: Option<String>,
    /// `spec.type`.
    pub entity_type: Option<String>,
    /// `spec.lifecycle`.
    pub lifecycle: Option<String>,
    /// `spec.owner`.
    pub owner: Option<EntityLink>,
    /// `spec.system`.
    pub system: Option<EntityLink>,
    /// The system's domain (Components/APIs/Resources) or `spec.domain` (Systems).
    pub domain: Option<EntityLink>,
    /// `metadata.tags`.
    pub tags: Vec<String>,
    /// `metadata.links`.
    pub links: Vec<ExternalLink>,
    /// `metadata.labels`, sorted by key.
    pub labels: Vec<(String, String)>,
    /// `metadata.annotations`, sorted by key.
    pub annotations: Vec<(String, String)>,
    /// Relations grouped by type.
    pub relations: Vec<RelationGroup>,
    /// API definition, for `kind: API`.
    pub definition: Option<ApiDefinition>,
    /// Whether the entity carries `backstage.io/kubernetes-id` or `-label-selector`.
    pub has_kubernetes_annotation: bool,
    /// What this kind's page shows beyond the common parts.
    pub kind_detail: KindDetail,
    /// The registered location the entity came from, when it came from one and the viewer may
    /// unregister it (the page then offers "Unregister").
    pub registered_location: Option<RegisteredLocation>,
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The entity (label: title, else name).
    pub link: EntityLink,
    /// Kind, as written.
    pub kind: String,
    /// `spec.type`.
    pub entity_type: Option<String>,
    /// `metadata.description`.
    pub description: Option<String>,
    /// The owner.
    pub owner: Option<EntityLink>,
    /// What matched, when it is not the name or title (`tag: payments`,
    /// `kubernetes-id: checkout`).
    pub matched: Option<String>,
}

/// Search results.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The query as understood (trimmed).
    pub query: String,
    /// The best hits, best first.
    pub hits: Vec<SearchHit>,
    /// How many entities matched in all.
    pub total: usize,
}

/// One row of the APIs explorer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRow {
    /// The API.
    pub row: EntityRow,
    /// How many components provide it.
    pub providers: usize,
    /// How many consume it.
    pub consumers: usize,
}

/// The APIs explorer (`/api-docs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiExplorer {
    /// One page of the APIs the filters select.
    pub apis: Vec<ApiRow>,
    /// APIs the filters select, in all.
    #[serde(default)]
    pub total: usize,
    /// This page, from 1.
    #[serde(default)]
    pub page: usize,
    /// APIs per page.
    #[serde(default)]
    pub page_size: usize,
    /// Types with counts (over every API the viewer may read).
    pub types: FacetValues,
    /// Lifecycles with counts.
    pub lifecycles: FacetValues,
}

/// A location registered through the portal, with what unregistering it removes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredLocation {
    /// Its id (Backstage's location id).
    pub id: String,
    /// The URL.
    pub target: String,
    /// Every entity read through it (they all go with it).
    pub entities: Vec<EntityLink>,
}

/// What registering a URL would bring: the register page's analysis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportAnalysis {
    /// The catalog file that was read (the URL itself, or `<url>/catalog-info.yaml`).
    pub target: String,
    /// Whether it is registered already.
    pub registered: bool,
    /// The entities found, by ref.
    pub entities: Vec<ImportEntity>,
    /// Problems that are not about one entity (the file cannot be read, a document does not
    /// parse).
    pub problems: Vec<String>,
}

/// One entity a catalog file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportEntity {
    /// `kind:namespace/name`.
    pub entity_ref: String,
    /// `kind` as written.
    pub kind: String,
    /// `metadata.title`, else `metadata.name`.
    pub label: String,
    /// Already in the catalog: its page.
    pub existing: Option<EntityLink>,
    /// Why it would not be accepted (empty: it would be).
    pub errors: Vec<String>,
}

/// A catalog problem as shown on the problems page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemView {
    /// `file:/abs/path` or `url:...`.
    pub location: String,
    /// The entity, when known.
    pub entity_ref: Option<String>,
    /// The field, when known.
    pub field: Option<String>,
    /// The reason.
    pub reason: String,
    /// Error (the entity or file was not loaded) or warning (loaded, but e.g. a relation
    /// points at a missing entity).
    pub is_error: bool,
}

pub mod clusters;
pub mod kubernetes;

/// A relation type in words, as Backstage's entity pages name them (`apiProvidedBy` →
/// "API provided by"); an unknown type has its camelCase split into words.
pub fn relation_label(relation_type: &str) -> String {
    let known = match relation_type {
        "ownedBy" => "Owned by",
        "ownerOf" => "Owner of",
        "providesApi" => "Provides API",
        "apiProvidedBy" => "API provided by",
        "consumesApi" => "Consumes API",
        "apiConsumedBy" => "API consumed by",
        "dependsOn" => "Depends on",
        "dependencyOf" => "Dependency of",
        "partOf" => "Part of",
        "hasPart" => "Has part",
        "parentOf" => "Parent of",
        "childOf" => "Child of",
        "memberOf" => "Member of",
        "hasMember" => "Has member",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let mut out = String::with_capacity(relation_type.len() + 4);
    for (i, c) in relation_type.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::relation_label;

    #[test]
    fn relation_types_read_as_words() {
        assert_eq!(relation_label("apiProvidedBy"), "API provided by");
        assert_eq!(relation_label("dependsOn"), "Depends on");
        assert_eq!(relation_label("someCustomThing"), "Some custom thing");
        assert_eq!(relation_label(""), "");
    }
}
