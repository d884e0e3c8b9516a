// The one table of the connection form: for each field of Connection, the
// admin form's label, help, examples and the rules of
// connection_validation.cc that JSON Schema can express. Types, names,
// enum values and field numbers come from the descriptors
// (connection_spec.cc); connection_spec_test fails if this table and
// connector.proto disagree. Rules JSON Schema cannot express are named in
// the help as "checked by Configure". Keep each number here equal to its
// constant in connection_validation.cc.
#include "server/connection_spec.h"

namespace server {
namespace {

constexpr FormGroup kGroups[] = {
    {"general", "General"}, {"query", "Query"},       {"server", "Server"},
    {"login", "Login"},     {"advanced", "Advanced"}, {"status", "Status (output only)"},
};

// Patterns shared by many fields, referred to as "#/$defs/<name>".
// singleLine: no control characters (what Configure calls text);
// noNul: anything but NUL; pem: printable ASCII lines; tenant: Entra ID
// directory id or domain; grantEndpoint: the endpoint rules both OAuth
// grants share (CheckEndpoint); tokenUrl: https://, or http:// to this
// machine.
constexpr absl::string_view kRootRules = R"json({
  "required": ["name", "username", "serverUrl"],
  "$defs": {
    "singleLine": {"type": "string", "pattern": "^[^\\u0000-\\u001f\\u007f]*$"},
    "noNul": {"type": "string", "pattern": "^[^\\u0000]*$"},
    "pem": {"type": "string", "pattern": "^[\\t\\n\\r\\u0020-\\u007e]*$"},
    "tenant": {"type": "string", "pattern": "^[A-Za-z0-9.\\-]{1,256}$"},
    "grantEndpoint": {"$comment": "OAuth 2.0 grants: MICROSOFT needs a tenant unless tokenUrl is given; a tenant is for MICROSOFT only; without a provider, tokenUrl is required.",
      "allOf": [
        {"if": {"required": ["provider"], "properties": {"provider": {"enum": ["OAUTH2_PROVIDER_MICROSOFT", 1]}, "tokenUrl": {"maxLength": 0}}},
         "then": {"required": ["tenant"], "properties": {"tenant": {"$ref": "#/$defs/tenant"}}}},
        {"if": {"not": {"required": ["provider"], "properties": {"provider": {"enum": ["OAUTH2_PROVIDER_MICROSOFT", 1]}}}},
         "then": {"properties": {"tenant": {"maxLength": 0}}}},
        {"if": {"not": {"required": ["provider"], "properties": {"provider": {"enum": ["OAUTH2_PROVIDER_MICROSOFT", 1, "OAUTH2_PROVIDER_GOOGLE", 2]}}}},
         "then": {"required": ["tokenUrl"], "properties": {"tokenUrl": {"minLength": 1}}}}]},
    "tokenUrl": {"type": "string", "pattern": "^(?:[hH][tT][tT][pP][sS]://[^/?#@]+|[hH][tT][tT][pP]://(?:(?:127\\.0\\.0\\.1|[lL][oO][cC][aA][lL][hH][oO][sS][tT])(?::[^/?#@]*)?|\\[::1\\][^/?#@]*))(?:[/?][^#]*)?$"}
  },
  "allOf": [
    {"$comment": "A source, a target, or both: isSource is true when absent, isTarget false.",
     "if": {"required": ["isSource"], "properties": {"isSource": {"const": false}}},
     "then": {"required": ["isTarget"], "properties": {"isTarget": {"const": true}}}},
    {"$comment": "A password, unless oauth2 gives the access token.",
     "if": {"not": {"required": ["oauth2"]}},
     "then": {"required": ["password"], "properties": {"password": {"minLength": 1}}}},
    {"$comment": "OAuth settings only with a mechanism that sends a token.",
     "if": {"required": ["oauth2"]},
     "then": {"properties": {"authMechanism": {"enum": ["AUTH_MECHANISM_AUTO", 0, "AUTH_MECHANISM_XOAUTH2", 5, "AUTH_MECHANISM_OAUTHBEARER", 6]}}}},
    {"$comment": "imaps:// means implicit TLS.",
     "if": {"required": ["serverUrl"], "properties": {"serverUrl": {"pattern": "^[\\t\\n\\u000b\\f\\r ]*[iI][mM][aA][pP][sS]://"}}},
     "then": {"properties": {"security": {"enum": ["SECURITY_UNSPECIFIED", 0, "SECURITY_IMPLICIT_TLS", 1]}}}},
    {"$comment": "imap:// means STARTTLS (or none).",
     "if": {"required": ["serverUrl"], "properties": {"serverUrl": {"pattern": "^[\\t\\n\\u000b\\f\\r ]*[iI][mM][aA][pP]://"}}},
     "then": {"properties": {"security": {"not": {"enum": ["SECURITY_IMPLICIT_TLS", 1]}}}}},
    {"$comment": "The port's default: 143 with STARTTLS or none (also when imap:// implies STARTTLS), else 993 (implicit TLS).",
     "if": {"anyOf": [
       {"required": ["security"], "properties": {"security": {"enum": ["SECURITY_STARTTLS", 2, "SECURITY_NONE", 3]}}},
       {"required": ["serverUrl"], "properties": {"serverUrl": {"pattern": "^[\\t\\n\\u000b\\f\\r ]*[iI][mM][aA][pP]://"}}}]},
     "then": {"properties": {"port": {"default": 143}}},
     "else": {"properties": {"port": {"default": 993}}}}
  ]
})json";

constexpr absl::string_view kTokenUrlHelp =
    "The token endpoint: https:// (http:// only to 127.0.0.1 or localhost, for tests), no user name, "
    "no #fragment, at most 2048 characters. Empty: the provider's (Microsoft: "
    "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token, Google: "
    "https://oauth2.googleapis.com/token); required without a provider.";
constexpr absl::string_view kTokenUrlSchema =
    R"json({"maxLength": 2048, "anyOf": [{"maxLength": 0}, {"$ref": "#/$defs/tokenUrl"}],
            "examples": ["https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"]})json";
constexpr absl::string_view kTenantHelp =
    "Microsoft only: the directory (tenant) id or domain (letters, digits, '.', '-'; at most 256). "
    "Required with provider MICROSOFT when the token URL is empty; must be empty with other providers.";
constexpr absl::string_view kMicrosoftOnly =
    R"json({"dependsOn": {"provider": ["OAUTH2_PROVIDER_MICROSOFT"]}})json";
constexpr absl::string_view kClientIdSchema =
    R"json({"$ref": "#/$defs/singleLine", "minLength": 1, "maxLength": 1024,
            "examples": ["00000000-0000-0000-0000-000000000000"]})json";
constexpr absl::string_view kSecretSchema = R"json({"$ref": "#/$defs/singleLine", "maxLength": 16384})json";
constexpr absl::string_view kScopeSchema = R"json({"$ref": "#/$defs/singleLine", "maxLength": 4096})json";
constexpr absl::string_view kHasHelp =
    "Output only: whether the server stores this secret. Ignored on input.";

constexpr FieldSpec kTable[] = {
    // ------------------------------------------------------------ General
    {"name", "Connection name",
     "Unique name of the connection: 1 to 128 bytes of UTF-8, no control characters, no '/', no space at "
     "either end. Configure replaces a stored connection of the same name.",
     "general", "text", "sales-inbox",
     R"json({"$ref": "#/$defs/singleLine", "minLength": 1, "maxLength": 128,
             "pattern": "^[^/ ](?:[^/]*[^/ ])?$", "examples": ["sales-inbox", "Support (EU)"]})json"},
    {"is_active", "Is Active",
     "Whether jobs may run on this connection. An inactive one is stored, but TestConnection, TestQuery, "
     "StreamRecords, Acknowledge and WriteRecords refuse it (FAILED_PRECONDITION). Absent means true.",
     "general", "checkbox", "", R"json({"default": true})json"},
    {"cloud_agent", "Cloud Agent",
     "The agent that runs this connection: empty or this server's own agent (its --agent flag); another "
     "agent's name is refused, since this server would never run it.",
     "general", "select", ""},
    {"implementation_type", "Implementation Type",
     "The engine: the connector's own native IMAP engine, the only one.", "general", "select", "",
     R"json({"default": "IMPLEMENTATION_TYPE_DEFAULT"})json"},
    {"is_source", "Is Source",
     "Records can be read from this connection (TestQuery, StreamRecords, Acknowledge). Absent means true. "
     "At least one of Is Source and Is Target must be true.",
     "general", "checkbox", "", R"json({"default": true})json"},
    {"is_target", "Is Target",
     "Records can be written to this connection (WriteRecords). Absent means false. At least one of Is "
     "Source and Is Target must be true.",
     "general", "checkbox", "", R"json({"default": false})json"},
    {"timeout_ms", "Timeout (ms)",
     "The longest the IMAP server may stay silent anywhere (connect, TLS, greeting, inside a response or a "
     "message body), in milliseconds; a command must also complete within 10 times this. 0 means 30000; "
     "otherwise 100 to 3600000.",
     "general", "number", "30000",
     R"json({"default": 30000, "anyOf": [{"const": 0}, {"minimum": 100, "maximum": 3600000}],
             "examples": [30000, 120000]})json"},
    // ------------------------------------------------------------ Query
    {"query", "Query",
     "Which messages become records and which columns they carry (docs/query.md), e.g. SELECT uid, date, "
     "from, subject WHERE NOT seen. Empty: every message of the default folder with the usual columns. At "
     "most 65536 bytes, no NUL; its grammar (a bad query is refused with its line and column) is checked "
     "by Configure. The columns a query may use are in GetSpec's columns.",
     "query", "textarea", "SELECT uid, date, from, subject WHERE NOT seen",
     R"json({"$ref": "#/$defs/noNul", "maxLength": 65536,
             "examples": ["", "SELECT uid, date, from, subject WHERE NOT seen LIMIT 100",
                          "SELECT subject, from, date FROM role:sent WHERE date >= '2024-01-01'"]})json"},
    {"datetime_format", "DateTime Format",
     "How timestamps are rendered as text, in UTC: empty or RFC3339, EPOCH_MILLIS, or a strftime-style "
     "pattern of %Y %y %m %d %e %H %I %M %S %p %j %a %A %b %B %F %T %z %Z %% and %Ez %E*z %E3S %E6S %E9S "
     "%E*S; at most 256 bytes, no control characters. Which conversions are allowed is checked by "
     "Configure, which answers a sample rendering in its notes.",
     "query", "text", "RFC3339",
     R"json({"$ref": "#/$defs/singleLine", "maxLength": 256, "default": "RFC3339",
             "examples": ["RFC3339", "EPOCH_MILLIS", "%Y-%m-%d %H:%M:%S"]})json"},
    // ------------------------------------------------------------ Login
    {"username", "Username",
     "The IMAP user name, often the whole e-mail address. Required; at most 1024 bytes, no control "
     "characters.",
     "login", "text", "user.name@example.com",
     R"json({"$ref": "#/$defs/singleLine", "minLength": 1, "maxLength": 1024,
             "examples": ["user.name@example.com", "jdoe"]})json"},
    {"password", "Password",
     "The IMAP password or app password (for XOAUTH2 and OAUTHBEARER without OAuth 2.0 settings: the access "
     "token). Required unless OAuth 2.0 settings are given; at most 4096 bytes, no NUL. Write-only: never "
     "returned or logged; when replacing a stored connection, leaving it empty keeps the stored one.",
     "login", "password", "",
     R"json({"$ref": "#/$defs/noNul", "maxLength": 4096})json", "", FieldAccess::kSecret},
    // ------------------------------------------------------------ Server
    {"server_url", "Server URL",
     "The IMAP server's host, e.g. imap.example.com, optionally with a port (imap.example.com:993) or a "
     "scheme: imaps://host[:port] for implicit TLS, imap://host[:port] for STARTTLS; [IPv6]:port for an "
     "address. No path, no user name. An e-mail address such as User.Name@mail.com is not a server URL: "
     "Configure then connects to its domain and says so in its notes: \"server_url is an e-mail address; "
     "connecting to its domain 'mail.com' (enter the IMAP host if it differs, e.g. imap.mail.com)\". "
     "Enter your provider's IMAP host instead. Required; the host and port syntax is checked by Configure.",
     "server", "text", "imap.example.com",
     R"json({"minLength": 1, "pattern": "[^\\t\\n\\u000b\\f\\r ]",
             "examples": ["imap.example.com", "imaps://imap.example.com:993", "imap://imap.example.com",
                          "imap.gmail.com", "outlook.office365.com", "[2001:db8::1]:993"]})json"},
    {"port", "Port",
     "TCP port, 1 to 65535. Empty or 0: the port in the Server URL, else 993 for implicit TLS and 143 for "
     "STARTTLS or none. A port in the Server URL and here must agree (checked by Configure).",
     "server", "number", "993",
     R"json({"minimum": 0, "maximum": 65535, "examples": [993, 143]})json",
     R"json({"defaults": [
              {"when": {"security": ["SECURITY_UNSPECIFIED", "SECURITY_IMPLICIT_TLS"]}, "value": 993},
              {"when": {"security": ["SECURITY_STARTTLS", "SECURITY_NONE"]}, "value": 143},
              {"when": {"serverUrl": "imap://..."}, "value": 143},
              {"when": {"serverUrl": "imaps://..."}, "value": 993}]})json"},
    {"security", "Security",
     "How the connection is protected: implicit TLS (from the first byte, usually port 993), STARTTLS "
     "(plain TCP upgraded, usually 143; never falls back to plaintext) or none (only for loopback or "
     "trusted networks). Unspecified: what the Server URL's scheme says, else implicit TLS. imaps:// "
     "allows only implicit TLS, imap:// not implicit TLS.",
     "server", "select", "", R"json({"default": "SECURITY_UNSPECIFIED"})json"},
    {"tls", "TLS certificates", "How the server's certificate is checked.", "server", "section", "",
     R"json({"allOf": [
       {"$comment": "A CA bundle and skipping verification exclude each other.",
        "if": {"required": ["caBundlePem"], "properties": {"caBundlePem": {"minLength": 1}}},
        "then": {"properties": {"insecureSkipVerify": {"const": false}}}}]})json"},
    {"tls.ca_bundle_pem", "CA certificates (PEM)",
     "PEM certificates trusted in addition to the system's, for a private or self-signed certificate; at "
     "most 1048576 bytes. That it holds at least one X.509 certificate is checked by Configure. Not "
     "together with Skip certificate verification.",
     "", "textarea", "-----BEGIN CERTIFICATE-----", R"json({"maxLength": 1048576})json"},
    {"tls.insecure_skip_verify", "Skip certificate verification",
     "Accept any certificate and host name: the connection can be intercepted. For tests only; not "
     "together with CA certificates.",
     "", "checkbox", "", R"json({"default": false})json"},
    {"auth_mechanism", "Authentication",
     "How to log in: AUTO (the strongest the server offers: SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, LOGIN), "
     "LOGIN, PLAIN, SCRAM_SHA_256, SCRAM_SHA_1, or XOAUTH2 / OAUTHBEARER (an OAuth 2.0 access token). "
     "With OAuth 2.0 settings only AUTO, XOAUTH2 or OAUTHBEARER.",
     "login", "select", "", R"json({"default": "AUTH_MECHANISM_AUTO"})json"},
    // ------------------------------------------------------------ Advanced
    {"default_folder", "Default folder",
     "The folder TestConnection opens and queries read when they name none. Empty means INBOX. UTF-8, at "
     "most 1000 bytes, no control characters.",
     "advanced", "text", "INBOX",
     R"json({"$ref": "#/$defs/singleLine", "maxLength": 1000, "default": "INBOX",
             "examples": ["INBOX", "Archive/2024"]})json"},
    {"post_actions", "After acknowledge",
     "What Acknowledge does to the messages the client processed: flags first, then move or delete. None "
     "by default: reading alone never changes a mailbox.",
     "advanced", "section", "",
     R"json({"allOf": [
       {"$comment": "Move or delete, not both.",
        "if": {"required": ["moveTo"], "properties": {"moveTo": {"minLength": 1}}},
        "then": {"properties": {"delete": {"const": false}}}}]})json"},
    {"post_actions.mark_seen", "Mark as seen", "Set the \\Seen flag.", "", "checkbox", "",
     R"json({"default": false})json"},
    {"post_actions.add_keywords", "Add keywords",
     "Keywords to set: IMAP atoms of 1 to 200 printable ASCII characters without spaces or ( ) { } % * "
     "\" \\ ].",
     "", "list", "Processed",
     R"json({"items": {"pattern": "^[\\u0021\\u0023\\u0024\\u0026\\u0027\\u002b-\\u005b\\u005e-\\u007a\\u007c-\\u007e]{1,200}$"},
             "examples": [["Processed"]]})json"},
    {"post_actions.move_to", "Move to folder",
     "Move the messages to this folder (UTF-8, at most 1000 bytes, no control characters). Not together "
     "with Delete.",
     "", "text", "Archive", R"json({"$ref": "#/$defs/singleLine", "maxLength": 1000})json"},
    {"post_actions.delete", "Delete",
     "Delete the messages (\\Deleted, then UID EXPUNGE of exactly them; the server needs UIDPLUS). Not "
     "together with Move to folder.",
     "", "checkbox", "", R"json({"default": false})json"},
    {"compress", "Compress (DEFLATE)",
     "Ask for COMPRESS=DEFLATE: less bandwidth on slow links, more CPU on both ends.", "advanced",
     "checkbox", "", R"json({"default": false})json"},
    {"max_message_bytes", "Largest message (bytes)",
     "The largest message body downloaded: 0 means 268435456 (256 MiB); otherwise 1024 to 4294967296. A "
     "larger one fails the stream (RESOURCE_EXHAUSTED), or with Skip oversized messages becomes a record "
     "with a defect.",
     "advanced", "number", "268435456",
     R"json({"default": 268435456, "anyOf": [
               {"const": 0},
               {"type": "integer", "minimum": 1024, "maximum": 4294967296},
               {"type": "string", "pattern": "^(?:0|102[4-9]|10[3-9][0-9]|1[1-9][0-9]{2}|[2-9][0-9]{3}|[1-9][0-9]{4,8}|[1-3][0-9]{9}|4[01][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[01][0-9]{2}|42949672[0-8][0-9]|429496729[0-6])$"}]})json"},
    {"skip_oversized_messages", "Skip oversized messages",
     "Deliver a message larger than Largest message as a record with a defect (uid and size, no body) "
     "instead of failing the stream.",
     "advanced", "checkbox", "", R"json({"default": false})json"},
    {"idle_refresh_ms", "IDLE refresh (ms)",
     "Follow mode: IDLE is ended and begun again this often. 0 means 30000; otherwise 1000 to 1740000 "
     "(29 minutes).",
     "advanced", "number", "30000",
     R"json({"default": 30000, "anyOf": [{"const": 0}, {"minimum": 1000, "maximum": 1740000}]})json"},
    {"max_connections", "Max IMAP connections",
     "The most IMAP connections this server opens to this mailbox at once, across every call; further "
     "calls queue. 0 means 10; otherwise 1 to 100 (Gmail allows about 15, Microsoft 365 about 20).",
     "advanced", "number", "10",
     R"json({"default": 10, "anyOf": [{"const": 0}, {"minimum": 1, "maximum": 100}]})json"},
    // ------------------------------------------------------------ OAuth 2.0
    {"oauth2", "OAuth 2.0",
     "Where XOAUTH2 / OAUTHBEARER access tokens come from: exactly one of a static token, a refresh-token "
     "grant, client credentials or a token file (docs/oauth.md). Only with Authentication AUTO, XOAUTH2 "
     "or OAUTHBEARER; with it, Password is not needed.",
     "login", "section", "", R"json({"minProperties": 1})json",
     R"json({"dependsOn": {"authMechanism": ["AUTH_MECHANISM_AUTO", "AUTH_MECHANISM_XOAUTH2", "AUTH_MECHANISM_OAUTHBEARER"]}})json"},
    {"oauth2.static_token", "Static access token",
     "An access token obtained elsewhere; it cannot be renewed, so logins fail once it expires.", "",
     "section", "", R"json({"required": ["accessToken"]})json"},
    {"oauth2.static_token.access_token", "Access token",
     "Required; at most 16384 bytes, no control characters. Write-only.", "", "password", "",
     R"json({"$ref": "#/$defs/singleLine", "minLength": 1, "maxLength": 16384})json", "",
     FieldAccess::kSecret},
    {"oauth2.static_token.has_access_token", "Has access token", kHasHelp, "", "hidden", "", "", "",
     FieldAccess::kOutput},
    {"oauth2.refresh_token_grant", "Refresh token grant",
     "The server trades a refresh token, obtained once when a person signed in, for access tokens (RFC "
     "6749 section 6); a rotated refresh token replaces the stored one.",
     "", "section", "",
     R"json({"required": ["clientId", "refreshToken"], "allOf": [{"$ref": "#/$defs/grantEndpoint"}]})json"},
    {"oauth2.refresh_token_grant.provider", "Provider",
     "MICROSOFT or GOOGLE fill an empty token URL and scope.", "", "select", "",
     R"json({"default": "OAUTH2_PROVIDER_UNSPECIFIED"})json"},
    {"oauth2.refresh_token_grant.tenant", "Tenant", kTenantHelp, "", "text", "contoso.onmicrosoft.com", "",
     kMicrosoftOnly},
    {"oauth2.refresh_token_grant.token_url", "Token URL", kTokenUrlHelp, "", "text", "", kTokenUrlSchema},
    {"oauth2.refresh_token_grant.client_id", "Client ID",
     "The application (client) id. Required; at most 1024 bytes, no control characters.", "", "text", "",
     kClientIdSchema},
    {"oauth2.refresh_token_grant.client_secret", "Client secret",
     "Empty for a public client; at most 16384 bytes, no control characters. Write-only.", "", "password",
     "", kSecretSchema, "", FieldAccess::kSecret},
    {"oauth2.refresh_token_grant.refresh_token", "Refresh token",
     "Required; at most 16384 bytes, no control characters. Write-only.", "", "password", "",
     R"json({"$ref": "#/$defs/singleLine", "minLength": 1, "maxLength": 16384})json", "",
     FieldAccess::kSecret},
    {"oauth2.refresh_token_grant.scope", "Scope",
     "Space-separated scopes. Empty: the provider's (Microsoft: "
     "https://outlook.office.com/IMAP.AccessAsUser.All offline_access, Google: https://mail.google.com/).",
     "", "text", "https://mail.google.com/", kScopeSchema},
    {"oauth2.refresh_token_grant.has_client_secret", "Has client secret", kHasHelp, "", "hidden", "", "", "",
     FieldAccess::kOutput},
    {"oauth2.refresh_token_grant.has_refresh_token", "Has refresh token", kHasHelp, "", "hidden", "", "", "",
     FieldAccess::kOutput},
    {"oauth2.client_credentials", "Client credentials grant",
     "App-only access to Microsoft 365 mailboxes (RFC 6749 section 4.4); Username names the mailbox. The "
     "application authenticates with a client secret, or with a certificate and its private key, not both.",
     "", "section", "",
     R"json({"required": ["clientId"], "allOf": [{"$ref": "#/$defs/grantEndpoint"},
       {"$comment": "A client secret, or a certificate with its key.",
        "if": {"properties": {"clientCertificatePem": {"maxLength": 0}, "clientPrivateKeyPem": {"maxLength": 0}}},
        "then": {"required": ["clientSecret"], "properties": {"clientSecret": {"minLength": 1}}},
        "else": {"required": ["clientCertificatePem", "clientPrivateKeyPem"],
                 "properties": {"clientSecret": {"maxLength": 0}, "clientCertificatePem": {"minLength": 1},
                                "clientPrivateKeyPem": {"minLength": 1}}}}]})json"},
    {"oauth2.client_credentials.provider", "Provider",
     "MICROSOFT fills an empty token URL and scope; GOOGLE has no client-credentials access to Gmail.", "",
     "select", "",
     R"json({"default": "OAUTH2_PROVIDER_UNSPECIFIED", "not": {"enum": ["OAUTH2_PROVIDER_GOOGLE", 2]}})json"},
    {"oauth2.client_credentials.tenant", "Tenant", kTenantHelp, "", "text", "contoso.onmicrosoft.com", "",
     kMicrosoftOnly},
    {"oauth2.client_credentials.token_url", "Token URL", kTokenUrlHelp, "", "text", "", kTokenUrlSchema},
    {"oauth2.client_credentials.client_id", "Client ID",
     "The application (client) id. Required; at most 1024 bytes, no control characters.", "", "text", "",
     kClientIdSchema},
    {"oauth2.client_credentials.client_secret", "Client secret",
     "Required unless a certificate is given; not together with one. At most 16384 bytes, no control "
     "characters. Write-only.",
     "", "password", "", kSecretSchema, "", FieldAccess::kSecret},
    {"oauth2.client_credentials.scope", "Scope",
     "Empty: the preset (Microsoft: https://outlook.office365.com/.default).", "", "text",
     "https://outlook.office365.com/.default", kScopeSchema},
    {"oauth2.client_credentials.client_certificate_pem", "Client certificate (PEM)",
     "The X.509 certificate uploaded to the application, PEM, at most 65536 bytes of printable ASCII. "
     "That it parses, is one certificate and matches the key is checked by Configure.",
     "", "textarea", "-----BEGIN CERTIFICATE-----", R"json({"$ref": "#/$defs/pem", "maxLength": 65536})json"},
    {"oauth2.client_credentials.client_private_key_pem", "Client private key (PEM)",
     "The certificate's unencrypted RSA private key (PKCS#8 or PKCS#1), at most 16384 bytes of printable "
     "ASCII. That it parses, has 2048 bits or more and matches the certificate is checked by Configure. "
     "Write-only.",
     "", "password", "-----BEGIN PRIVATE KEY-----", R"json({"$ref": "#/$defs/pem", "maxLength": 16384})json",
     "", FieldAccess::kSecret},
    {"oauth2.client_credentials.has_client_secret", "Has client secret", kHasHelp, "", "hidden", "", "", "",
     FieldAccess::kOutput},
    {"oauth2.client_credentials.has_client_private_key", "Has client private key", kHasHelp, "", "hidden", "",
     "", "", FieldAccess::kOutput},
    {"oauth2.token_file", "Token file",
     "A file on the server holding the access token, kept fresh by another program (e.g. a Kubernetes "
     "Secret); read again when it changes.",
     "", "section", "", R"json({"required": ["path"]})json"},
    {"oauth2.token_file.path", "Path",
     "Absolute path on the server. Required; at most 4096 bytes, no control characters.", "", "text",
     "/var/run/secrets/imap/token",
     R"json({"$ref": "#/$defs/singleLine", "minLength": 1, "maxLength": 4096, "pattern": "^/"})json"},
    // ------------------------------------------------------------ Output only
    {"has_password", "Has password", "Output only: whether a password is stored. Ignored on input.",
     "status", "hidden", "", "", "", FieldAccess::kOutput},
    {"effective_host", "Effective host",
     "Output only: the host the server connects to, after reading the Server URL. Ignored on input.",
     "status", "hidden", "", "", "", FieldAccess::kOutput},
    {"effective_port", "Effective port", "Output only: the port the server connects to. Ignored on input.",
     "status", "hidden", "", "", "", FieldAccess::kOutput},
    {"effective_security", "Effective security",
     "Output only: the protection the server uses. Ignored on input.", "status", "hidden", "", "", "",
     FieldAccess::kOutput},
    {"last_ack_cursor", "Last acknowledged cursor",
     "Output only: the last cursor Acknowledge confirmed. Ignored on input.", "status", "hidden", "", "",
     "", FieldAccess::kOutput},
};

}  // namespace

absl::Span<const FieldSpec> ConnectionFieldTable() { return kTable; }
absl::Span<const FormGroup> ConnectionFormGroups() { return kGroups; }
absl::string_view ConnectionRootRules() { return kRootRules; }

}  // namespace server
