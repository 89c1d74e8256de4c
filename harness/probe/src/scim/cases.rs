//! The catalogue of `probe scim`: what each case checks, the RFC section it comes from, what a
//! failure means for the team and how to fix it. The requests themselves are in
//! [`super::run`]'s steps, one per case id.

use crate::outcome::Expect;

/// One case of the catalogue.
#[derive(Debug)]
pub struct Case {
    /// Stable identifier (JSON, JUnit, SARIF, README), never renamed.
    pub id: &'static str,
    /// What it checks, one line.
    pub title: &'static str,
    /// The RFC section that requires it.
    pub rfc: &'static str,
    pub expect: Expect,
    pub meaning: &'static str,
    pub fix: &'static str,
}

const fn case(
    id: &'static str,
    title: &'static str,
    rfc: &'static str,
    expect: Expect,
    meaning: &'static str,
    fix: &'static str,
) -> Case {
    Case {
        id,
        title,
        rfc,
        expect,
        meaning,
        fix,
    }
}

use Expect::{Accept, Refuse};

/// The RFC catalogue, in the order it runs (later cases use what earlier ones created).
pub const RFC_CASES: &[Case] = &[
    case("service-provider-config", "GET /ServiceProviderConfig describes patch, filter and the auth scheme", "RFC 7644 §4, RFC 7643 §5", Accept,
        "IdP clients read it to decide whether to PATCH and filter; without it they guess",
        "serve /ServiceProviderConfig with the ServiceProviderConfig schema and patch/filter objects"),
    case("schemas", "GET /Schemas lists the User and Group schemas, each readable by id", "RFC 7644 §4, RFC 7643 §7", Accept,
        "clients that map attributes from the schema cannot see which attributes exist",
        "serve /Schemas as a ListResponse and /Schemas/{urn} for each schema"),
    case("resource-types", "GET /ResourceTypes lists User and Group with their endpoints", "RFC 7644 §4, RFC 7643 §6", Accept,
        "clients cannot find the Users and Groups endpoints from discovery",
        "serve /ResourceTypes as a ListResponse and /ResourceTypes/{name}"),
    case("discovery-unknown-id", "an unknown schema or resource type id is a 404", "RFC 7644 §3.12", Refuse,
        "a client cannot tell a missing schema from an existing one",
        "answer 404 with the SCIM error body for ids you do not serve"),
    case("discovery-read-only", "PUT /ServiceProviderConfig is refused (405 or another 4xx)", "RFC 7644 §4", Refuse,
        "a provisioning client, or anyone holding its token, can rewrite what the server announces",
        "serve the discovery endpoints for GET only"),
    case("unknown-endpoint", "a path that is no SCIM endpoint is a 404", "RFC 7644 §3.12", Refuse,
        "a typo in the client's base URL looks like success",
        "answer 404 with the SCIM error body for unknown paths"),
    case("no-token", "GET /Users without the bearer token is a 401", "RFC 7644 §2, §3.12", Refuse,
        "anyone who can reach the endpoint can read and change the directory",
        "require the provisioning token on every SCIM endpoint and answer 401 without it"),
    case("user-create", "POST /Users creates a User: 201, an id, userName as sent", "RFC 7644 §3.3", Accept,
        "the IdP cannot provision anyone",
        "answer 201 Created with the resource, its server-assigned id and meta"),
    case("user-read", "GET /Users/{id} returns the created User", "RFC 7644 §3.4.1", Accept,
        "the IdP cannot read back what it provisioned and will keep re-creating it",
        "serve each User at its meta.location, /Users/{id}"),
    case("user-unknown-id", "GET /Users/{unknown id} is a 404 with the SCIM error body", "RFC 7644 §3.12", Refuse,
        "a deleted user looks present, so the IdP never re-creates or forgets it",
        "answer 404 with schemas [urn:ietf:params:scim:api:messages:2.0:Error] and status \"404\""),
    case("user-conflict", "a second POST /Users with the same userName is a 409 uniqueness error", "RFC 7644 §3.3, §3.12", Refuse,
        "two accounts for one person: the IdP's later updates and deprovisioning reach only one of them",
        "enforce userName uniqueness and answer 409 with scimType \"uniqueness\" in the SCIM error body"),
    case("user-replace", "PUT /Users/{id} replaces the User", "RFC 7644 §3.5.1", Accept,
        "clients that update by PUT (Okta) cannot change a profile",
        "accept PUT of the whole resource and answer 200 with it"),
    case("patch-add", "PATCH add with path `emails` appends a value", "RFC 7644 §3.5.2.1", Accept,
        "new attribute values from the IdP are lost",
        "apply `add` to multi-valued attributes by appending"),
    case("patch-replace-path", "PATCH replace with path `displayName`", "RFC 7644 §3.5.2.3", Accept,
        "profile changes in the IdP never reach the application",
        "apply `replace` with a simple attribute path"),
    case("patch-replace-no-path", "PATCH replace without a path, the value an object of attributes", "RFC 7644 §3.5.2.3", Accept,
        "clients that send path-less replaces (Okta, Entra ID) cannot update users",
        "apply a path-less `replace` attribute by attribute"),
    case("patch-replace-filter", "PATCH replace with a value filter path `emails[type eq \"work\"].value`", "RFC 7644 §3.5.2, §3.5.2.3", Accept,
        "changes to one email or phone of a user are lost",
        "support value filters in PATCH paths"),
    case("patch-remove-filter", "PATCH remove with path `emails[type eq \"home\"]` removes only that value", "RFC 7644 §3.5.2.2", Accept,
        "values removed in the IdP stay in the application",
        "support `remove` with a value filter, removing only the matching values"),
    case("patch-remove-attribute", "PATCH remove with path `nickName` clears it", "RFC 7644 §3.5.2.2", Accept,
        "attributes cleared in the IdP stay in the application",
        "apply `remove` with a simple attribute path"),
    case("patch-invalid-op", "PATCH with an unknown op is a 400", "RFC 7644 §3.5.2, §3.12", Refuse,
        "a malformed change is silently applied or dropped",
        "refuse unknown PATCH ops with 400 and the SCIM error body"),
    case("filter-eq", "filter `userName eq …` finds exactly that User", "RFC 7644 §3.4.2.2", Accept,
        "the IdP's \"does this user exist?\" lookup fails, so it creates duplicates or gives up",
        "support `eq` on userName (case-insensitive, per RFC 7643 §4.1.1)"),
    case("filter-co", "filter `userName co …` finds every match", "RFC 7644 §3.4.2.2", Accept,
        "substring searches return the wrong users",
        "support `co`"),
    case("filter-sw", "filter `userName sw …` finds every match", "RFC 7644 §3.4.2.2", Accept,
        "prefix searches return the wrong users",
        "support `sw`"),
    case("filter-and", "filter `… and …` finds the intersection", "RFC 7644 §3.4.2.2", Accept,
        "combined lookups return the wrong users",
        "support the logical operator `and`"),
    case("filter-or", "filter `… or …` finds the union", "RFC 7644 §3.4.2.2", Accept,
        "combined lookups return the wrong users",
        "support the logical operator `or`"),
    case("filter-invalid", "a filter with an unknown operator is a 400 invalidFilter", "RFC 7644 §3.4.2.2, §3.12", Refuse,
        "an unparsable filter returns users anyway: a lookup matches whoever comes first",
        "answer 400 with scimType \"invalidFilter\""),
    case("pagination", "startIndex and count page through a result", "RFC 7644 §3.4.2.4", Accept,
        "large directories are read incompletely or forever",
        "honour startIndex (1-based) and count, and report totalResults, itemsPerPage and startIndex"),
    case("attributes", "`attributes=userName` returns only the asked attributes (and id)", "RFC 7644 §3.4.2.5", Accept,
        "clients that ask for few attributes get everything; heavy for large directories",
        "honour the attributes query parameter"),
    case("search-post", "POST /Users/.search with a filter", "RFC 7644 §3.4.3", Accept,
        "clients that search by POST (to keep filters out of URLs and logs) cannot look users up",
        "serve POST /{resource}/.search with a SearchRequest body"),
    case("group-create", "POST /Groups with a member creates the Group", "RFC 7644 §3.3, RFC 7643 §4.2", Accept,
        "group push fails, so group-based access in the application is never granted",
        "accept Groups with members and answer 201"),
    case("group-read", "GET /Groups/{id} lists the members", "RFC 7644 §3.4.1", Accept,
        "the IdP cannot verify memberships it pushed",
        "return members as {value, display, $ref}"),
    case("group-filter", "filter `displayName eq …` finds the Group", "RFC 7644 §3.4.2.2", Accept,
        "group push cannot match an existing group and creates a second one",
        "support `eq` on Group displayName"),
    case("group-add-member", "PATCH add with path `members` adds a member", "RFC 7644 §3.5.2.1", Accept,
        "users added to a group in the IdP do not get its access",
        "append PATCH `add` members"),
    case("group-remove-member", "PATCH remove with path `members[value eq \"id\"]` removes that member", "RFC 7644 §3.5.2.2", Accept,
        "users removed from a group in the IdP keep its access",
        "support `remove` with a members value filter"),
    case("group-replace", "PUT /Groups/{id} replaces name and members", "RFC 7644 §3.5.1", Accept,
        "clients that replace groups by PUT cannot change them",
        "accept PUT of the whole Group"),
    case("deprovision-deactivate", "PATCH replace `active` false deactivates the User", "RFC 7643 §4.1.1, RFC 7644 §3.5.2.3", Accept,
        "a user disabled in the IdP keeps working in the application: the first step of offboarding does nothing",
        "store active, and when it turns false end the user's sessions and revoke their tokens"),
    case("deprovision-delete", "DELETE /Users/{id}: 204, then 404, and no longer found by filter", "RFC 7644 §3.6", Accept,
        "a user deleted in the IdP is still found, and may still sign in",
        "delete (or hide) the user, end their sessions and revoke their tokens; answer 204"),
];

/// The cases a vendor dialect adds, each sending exactly that vendor's request shape
/// ([`super::dialect::Shapes`]); their ids are prefixed with the dialect's name.
pub const DIALECT_CASES: &[Case] = &[
    case("update-profile", "the vendor's profile update (Entra ID: PATCH Replace path; Okta: PUT of the whole user)", "RFC 7644 §3.5", Accept,
        "profile changes from this IdP never reach the application",
        "accept the vendor's request shape, see the README's dialect table"),
    case("deactivate", "the vendor's deactivation (Entra ID: `Replace` `active` \"False\"; Okta: path-less replace {active: false})", "RFC 7643 §4.1.1", Accept,
        "users this IdP disables keep working in the application",
        "accept mixed-case ops and string booleans (Entra ID) and path-less replaces (Okta); store a JSON boolean"),
    case("reactivate", "the vendor's reactivation (active true in the same shape)", "RFC 7643 §4.1.1", Accept,
        "users this IdP re-enables stay locked out",
        "as for deactivate"),
    case("group-push", "the vendor's group push: POST /Groups with no members", "RFC 7644 §3.3", Accept,
        "this IdP's group push fails",
        "accept a Group with an empty members list"),
    case("group-rename", "the vendor's rename (Entra ID: Replace path displayName; Okta: path-less replace {id, displayName})", "RFC 7644 §3.5.2.3", Accept,
        "group renames in this IdP never reach the application",
        "accept a path-less replace that repeats the id, and mixed-case ops"),
    case("add-member", "the vendor's member add (Entra ID: `Add` with $ref null)", "RFC 7644 §3.5.2.1", Accept,
        "users this IdP adds to a group do not get its access",
        "accept mixed-case ops and members with a null $ref"),
    case("remove-member", "the vendor's member removal (Entra ID: `Remove` path members with a value list; Okta: filter path)", "RFC 7644 §3.5.2.2", Accept,
        "users this IdP removes from a group keep its access",
        "accept both member removal shapes"),
];

/// Runs last, whatever the dialect: deletes what the run created.
pub const CLEANUP: Case = case(
    "cleanup",
    "DELETE of every User and Group the run created",
    "RFC 7644 §3.6",
    Accept,
    "the probe's test resources are left in the directory; delete the ones named",
    "answer DELETE with 204 (or 404 for one already gone)",
);

/// Every case id a run of `dialect` can report, in order.
pub fn ids(dialect: super::Dialect) -> Vec<String> {
    let mut ids: Vec<String> = RFC_CASES.iter().map(|c| c.id.to_string()).collect();
    if dialect.shapes().is_some() {
        ids.extend(
            DIALECT_CASES
                .iter()
                .map(|c| format!("{}-{}", dialect.name(), c.id)),
        );
    }
    ids.push(CLEANUP.id.to_string());
    ids
}
