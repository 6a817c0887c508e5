//! Reading domains: `GET /domains` (domain-list), `GET /domains/{id}` (domain-get), and the DNS
//! records of a domain (domain-list-verificationdnsrecords,
//! domain-list-serviceconfigurationrecords).

use super::paging::{context, entity, vec_page, Listing, CTX};
use super::specs::DOMAINS;
use crate::fleet::{Domain, Tenant};
use crate::ids::Guid;
use crate::odata;
use crate::platform::errors::GraphError;
use crate::platform::extract::{Directory, GraphCall};
use crate::world::overlay::verification_code;
use axum::extract::{Path, RawQuery};
use axum::response::Response;
use serde_json::{json, Value};

type Res = Result<Response, GraphError>;

/// learn.microsoft.com/graph/api/resources/domain.
pub fn domain_json(d: &Domain) -> Value {
    json!({
        "authenticationType": d.authentication_type,
        "availabilityStatus": null,
        "id": d.name,
        "isAdminManaged": true,
        "isDefault": d.is_default,
        "isInitial": d.is_initial,
        "isRoot": true,
        "isVerified": d.is_verified,
        "supportedServices": d.supported_services,
        "passwordValidityPeriodInDays": 90,
        "passwordNotificationWindowInDays": 14,
        "state": null,
    })
}

pub async fn domains(call: GraphCall<Directory>, RawQuery(raw): RawQuery) -> Res {
    let q = call.query(&raw, &DOMAINS)?;
    let cost = call.charge(1, Some(&q))?;
    let items = call.sim.world.domains(call.t()).iter().map(domain_json).collect();
    let ctx = context(&format!("{CTX}domains"), &q);
    vec_page(
        &call,
        Listing {
            spec: &DOMAINS,
            q: &q,
            path: "domains",
            ctx,
            cost,
        },
        items,
    )
}

/// The tenant's domain `id` (case-insensitive), else Graph's 404.
fn find(call: &GraphCall<Directory>, id: &str) -> Result<Domain, GraphError> {
    call.sim
        .world
        .domains(call.t())
        .into_iter()
        .find(|d| d.name.eq_ignore_ascii_case(id))
        .ok_or_else(|| call.not_found(id))
}

pub async fn domain(call: GraphCall<Directory>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Res {
    let q = call.query(&raw, &DOMAINS)?;
    let cost = call.charge(1, Some(&q))?;
    let d = find(&call, &id)?;
    let v = odata::project(&domain_json(&d), &q, &DOMAINS);
    Ok(call.ok(entity(&format!("{CTX}domains"), &q, v), cost))
}

fn dns_collection(call: &GraphCall<Directory>, path: &str, records: Vec<Value>, cost: u32) -> Response {
    call.ok(
        json!({
            "@odata.context": format!("{CTX}{path}"),
            "value": records,
        }),
        cost,
    )
}

/// `domainDnsRecord` ids are GUIDs; fixed per tenant, domain and record.
fn record_id(t: &Tenant, name: &str, n: u64) -> String {
    Guid::from_parts(&[t.idx as u64, odata::hash_str(name), n]).to_string()
}

pub async fn verification_records(call: GraphCall<Directory>, Path(id): Path<String>) -> Res {
    let cost = call.charge(1, None)?;
    let t = call.t();
    let d = find(&call, &id)?;
    let code = verification_code(t, &d.name);
    let records = vec![
        json!({
            "@odata.type": "#microsoft.graph.domainDnsTxtRecord",
            "id": record_id(t, &d.name, 1),
            "isOptional": false,
            "label": d.name,
            "recordType": "Txt",
            "supportedService": "None",
            "ttl": 3600,
            "text": format!("MS=ms{code}"),
        }),
        json!({
            "@odata.type": "#microsoft.graph.domainDnsMxRecord",
            "id": record_id(t, &d.name, 2),
            "isOptional": false,
            "label": d.name,
            "recordType": "Mx",
            "supportedService": "None",
            "ttl": 3600,
            "mailExchange": format!("ms{code}.msv1.invalid"),
            "preference": 32767,
        }),
    ];
    let path = format!("domains('{}')/verificationDnsRecords", d.name);
    Ok(dns_collection(&call, &path, records, cost))
}

pub async fn service_records(call: GraphCall<Directory>, Path(id): Path<String>) -> Res {
    let cost = call.charge(1, None)?;
    let t = call.t();
    let d = find(&call, &id)?;
    let n = &d.name;
    // The docs' example: MX to <domain-with-dashes>.mail.protection.outlook.com, SPF TXT.
    let records = vec![
        json!({
            "@odata.type": "#microsoft.graph.domainDnsMxRecord",
            "id": record_id(t, n, 11), "isOptional": false, "label": n, "recordType": "Mx",
            "supportedService": "Email", "ttl": 3600,
            "mailExchange": format!("{}.mail.protection.outlook.com", n.replace('.', "-")), "preference": 0,
        }),
        json!({
            "@odata.type": "#microsoft.graph.domainDnsTxtRecord",
            "id": record_id(t, n, 12), "isOptional": false, "label": n, "recordType": "Txt",
            "supportedService": "Email", "ttl": 3600,
            "text": "v=spf1 include:spf.protection.outlook.com ~all",
        }),
        json!({
            "@odata.type": "#microsoft.graph.domainDnsCnameRecord",
            "id": record_id(t, n, 13), "isOptional": false, "label": format!("autodiscover.{n}"),
            "recordType": "CName", "supportedService": "Email", "ttl": 3600,
            "canonicalName": "autodiscover.outlook.com",
        }),
        json!({
            "@odata.type": "#microsoft.graph.domainDnsSrvRecord",
            "id": record_id(t, n, 14), "isOptional": false, "label": n, "recordType": "Srv",
            "supportedService": "OfficeCommunicationsOnline", "ttl": 3600,
            "nameTarget": "sipfed.online.lync.com", "port": 5061, "priority": 100,
            "protocol": "_tcp", "service": "_sipfederationtls", "weight": 1,
        }),
    ];
    let path = format!("domains('{n}')/serviceConfigurationRecords");
    Ok(dns_collection(&call, &path, records, cost))
}
