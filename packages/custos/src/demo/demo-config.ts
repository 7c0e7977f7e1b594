import { DEMO_MIGRATION_YAML } from './demo-legacy.js';

/**
 * The demo world's configuration. It mirrors the real case: a social app's US user data moves off
 * its own datacenter, an offshore backup site and a public cloud onto a trusted in-country cloud,
 * guarded by an independent custodian, with the foreign parent cut off.
 */
export function demoConfigYaml(dataDir: string): string {
  return `# Custos demo world. See the README's configuration reference for every key.
version: 1
dataDir: ${JSON.stringify(dataDir)}
server:
  host: 127.0.0.1
  port: 8470
ledger:
  origin: demo.custos.local/custos/US
jurisdictions:
  - { id: US, name: United States }
  - { id: SG, name: Singapore }
organisations:
  - { id: custodian, kind: custodian, name: In-country security custodian }
  - { id: operator, kind: operator, name: The social app (US entity) }
  - { id: parent, kind: parent, name: Foreign parent company }
  - { id: trusted-cloud, kind: cloud, name: Trusted in-country cloud }
  - { id: public-cloud, kind: cloud, name: Third-party public cloud }
  - { id: auditor, kind: auditor, name: External auditor }
sites:
  - { id: us-trusted-cloud, country: US, operator: trusted-cloud }
  - { id: us-legacy-dc, country: US, operator: operator }
  - { id: sg-backup, country: SG, operator: operator }
  - { id: us-public-cloud, country: US, operator: public-cloud }
stores:
  - { id: us-main, driver: sqlite, site: us-trusted-cloud, path: stores/us-trusted-cloud.db }
  - { id: us-public, driver: sqlite, site: us-public-cloud, path: stores/us-public-cloud.db }
  - { id: us-legacy, driver: sqlite, site: us-legacy-dc, path: stores/us-legacy-dc.db }
  - { id: sg-main, driver: sqlite, site: sg-backup, path: stores/sg-backup.db }
collections:
  - id: profiles
    category: protected
    fields:
      - { name: email, classification: protected }
      - { name: phone, classification: protected }
      - { name: birth_date, classification: protected }
      - { name: display_name, classification: public }
      - bio
  - id: messages
    category: protected
    fields: [to, body, sent_at]
  - id: watch_history
    category: protected
    fields: [video_id, watched_at, seconds]
  - id: public_videos
    category: public
    fields:
      - { name: title, classification: public }
      - { name: views, classification: public }
      - { name: uploaded_at, classification: public }
  - id: metrics
    category: aggregate
    fields:
      - { name: day, classification: aggregate }
      - { name: region, classification: aggregate }
      - { name: active_users, classification: aggregate }
residency:
  # US protected data lives only on the trusted in-country cloud.
  - { jurisdiction: US, category: protected, sites: [us-trusted-cloud] }
  - { jurisdiction: US, category: interoperability, sites: [us-trusted-cloud] }
  - { jurisdiction: US, category: public, sites: [us-trusted-cloud, us-public-cloud] }
  - { jurisdiction: US, category: aggregate, sites: [us-trusted-cloud, us-public-cloud] }
  - { jurisdiction: SG, category: protected, sites: [sg-backup] }
  - { jurisdiction: SG, category: interoperability, sites: [sg-backup] }
  - { jurisdiction: SG, category: public, sites: [sg-backup] }
  - { jurisdiction: SG, category: aggregate, sites: [sg-backup] }
purposes:
  - { id: service, description: the operator's app serving its own users, maxDurationHours: 8 }
  - { id: custody, description: custodian officers holding the data, maxDurationHours: 8 }
  - { id: SUPPORT_TICKET, description: a user's support ticket, maxDurationHours: 24 }
  - { id: LEGAL_REQUEST, description: a court order or regulator's request, maxDurationHours: 168 }
  - { id: SECURITY_INCIDENT, description: incident response, maxDurationHours: 24 }
  - { id: ENGINEERING_DEBUG, description: debugging a production fault, maxDurationHours: 4 }
masking:
  # Custodian officers see contact details masked, and never message bodies.
  - { orgKinds: [custodian], purposes: [custody], fields: [email], mask: hash }
  - { orgKinds: [custodian], purposes: [custody], fields: [phone], mask: last4 }
  - { orgKinds: [custodian], purposes: [custody], fields: [birth_date], mask: year }
  - { orgKinds: [custodian], purposes: [custody], collections: [messages], fields: [body], mask: redact }
  # Operator engineers on a support ticket see the phone's last digits and the birth year only.
  - { roles: [engineer], purposes: [SUPPORT_TICKET, ENGINEERING_DEBUG], fields: [phone], mask: last4 }
  - { roles: [engineer], purposes: [SUPPORT_TICKET, ENGINEERING_DEBUG], fields: [birth_date], mask: year }
  - { roles: [engineer], purposes: [ENGINEERING_DEBUG], fields: [email, body], mask: drop }
  # On a support ticket they read a user's messages but not who they wrote to.
  - { roles: [engineer], purposes: [SUPPORT_TICKET], collections: [messages], fields: [to], mask: hash }
principals:
  - { id: custodian-officer, org: custodian, roles: [officer] }
  - { id: custodian-approver, org: custodian, roles: [approver] }
  - { id: operator-app, org: operator, roles: [app], kind: service, jurisdiction: US }
  - { id: operator-engineer, org: operator, roles: [engineer] }
  - { id: parent-engineer, org: parent, roles: [engineer] }
  - { id: auditor, org: auditor, roles: [auditor] }
  # Gatekeeping (docs/gatekeeping.md): more approvers (through groups), an on-call custodian, a supervisor.
  - { id: custodian-approver-2, org: custodian }
  - { id: custodian-approver-3, org: custodian }
  - { id: custodian-oncall, org: custodian, roles: [officer] }
  - { id: operator-supervisor, org: operator, roles: [supervisor] }
governance:
  mode: autonomous # supervised: the purposes under supervision.purposes also need an operator supervisor
  approverRole: approver
  groups:
    - { id: approvers, roles: [approver], members: [custodian-approver-2], subgroups: [approvers-night] }
    - { id: approvers-night, members: [custodian-approver-3] }
    - { id: on-call, roles: [break-glass], members: [custodian-oncall] }
    - { id: policy-board, roles: [board], members: [custodian-officer, custodian-approver, operator-supervisor] }
  quorum:
    default: 1 # one approver for a few named subjects
    rules:
      - { minSubjects: 101, approvals: 2 } # more than 100 subjects
      - { bulk: true, approvals: 2 } # every subject of a jurisdiction
      - { bulk: true, actions: [list], approvals: 3 } # bulk export
  supervision: { purposes: [LEGAL_REQUEST], role: supervisor }
  breakGlass: { role: break-glass, maxDurationMinutes: 60, reviewers: 2, reviewDeadlineHours: 24 }
  board: { role: board, quorum: 2, operatorApprovals: 1 }
egress:
  # Regulated data types (28 CFR 202.205): what the 12-month volume limits count, per counterparty.
  dataTypes:
    - { collection: profiles, field: email, type: personal-identifiers }
    - { collection: profiles, field: phone, type: personal-identifiers }
    - { collection: profiles, field: birth_date, type: personal-identifiers }
  flows:
    # Business metrics for the global company: aggregated, months not days, groups of 5+ persons.
    - id: parent-metrics
      destination: parent
      destinationJurisdiction: CN
      purpose: monthly business metrics for the global company
      sources: [metrics]
      jurisdictions: [US] # required for a parent flow: ring-fenced data is never read by default
      fields:
        - { field: day, rule: generalise, to: month }
        - { field: region, rule: allow }
        - { field: active_users, rule: allow }
      aggregate:
        groupBy: [day, region]
        metrics: [{ kind: count, as: reports }, { kind: sum, field: active_users }, { kind: distinct-subjects }]
        minGroupSize: 5
      expires: 2027-12-31
    # Interoperability: account linking across the global app, pseudonymised per flow; metered.
    - id: parent-interop
      destination: parent
      destinationJurisdiction: CN
      purpose: interoperability - link accounts across the global app without identifying anyone
      sources: [profiles]
      jurisdictions: [US]
      subject: pseudonymise
      fields:
        - { field: email, rule: pseudonymise }
        - { field: birth_date, rule: generalise, to: year }
        - { field: display_name, rule: allow }
      limits: { personal-identifiers: 10000 }
      expires: 2027-12-31
${DEMO_MIGRATION_YAML}`;
}
