// The web UI (docs/webui.md): the gateway's HTML pages, rendered from plain views without I/O so
// that every page and every escape is unit-tested. The web API (web_api.h) gathers the views
// and serves the pages; the pages change nothing themselves: their script (script()) calls the
// web API with the CSRF guard header, as the CLI does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/client/checker.h"
#include "core/client/deep_check.h"
#include "core/runtime/time.h"

namespace lafs::node::ui {

// The header every state-changing request (PUT, POST, DELETE) must carry, with any non-empty
// value. A page of another site cannot set it without a CORS preflight, which the gateway never
// grants, and an HTML form cannot set it at all (docs/webui.md "Browser safety").
inline constexpr std::string_view kCsrfHeader = "X-Lafs-Request";

// The Content-Security-Policy of the gateway's own pages: no inline script or style (a name
// that slipped through escaping could not run), nothing from elsewhere, never framed.
inline constexpr std::string_view kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

// `text` safe inside HTML text and inside a double- or single-quoted attribute value.
std::string html_escape(std::string_view text);

// "0 B", "1023 B", "1.5 KiB", "12.0 MiB", ... (binary units, one decimal).
std::string format_bytes(std::uint64_t bytes);

// "2026-12-07 15:04:05 UTC".
std::string format_utc(WallTime t);

// A Content-Type for a file named `filename` (by its extension, ASCII case-insensitive);
// "application/octet-stream" when unknown. Files are served sandboxed and unsniffed whatever
// their type (web_api.cc), so a type only decides how a browser shows the file.
std::string content_type_for(std::string_view filename);

// A Content-Disposition value that makes a browser save the file as `filename` (RFC 6266: an
// ASCII fallback with '"', '\\' and non-ASCII replaced, and the exact name as filename*).
std::string content_disposition(std::string_view filename);

// The welcome page (GET /).
struct ServerRow {
  std::string nickname;
  std::string node_key_hex;
  std::string address;
  std::uint64_t available_bytes = 0;
  bool read_only = false;
  std::string last_contact;  // "12 s ago", "never", "failed 3 s ago: ..."
};
struct WelcomeView {
  std::string nickname;
  std::string node_key_hex;
  std::string version;
  bool introducer_connected = false;
  std::uint64_t introducer_polls = 0;
  std::uint32_t introducer_failures = 0;  // in a row
  std::uint32_t needed = 0, happy = 0, total = 0;
  std::uint64_t segment_size = 0;
  std::vector<ServerRow> servers;
  std::string maintenance;  // what the maintenance agent does ("off", "every 7 days; ...")
};
std::string render_welcome(const WelcomeView& view);

// A directory page (GET /uri/DIRCAP[/PATH]/ without t=).
struct EntryRow {
  std::string name;
  bool directory = false;
  bool mutable_file = false;
  std::optional<std::uint64_t> size;
  std::optional<WallTime> modified;
  std::string href;       // opens the child: a directory page, or the file itself
  std::string info_href;  // the child's info page
};
struct Crumb {
  std::string label;
  std::string href;
};
struct DirectoryView {
  std::string api_path;       // "/uri/CAP/a/b": where the page's script sends its calls
  std::vector<Crumb> crumbs;  // root first; the last is this directory
  bool writable = false;      // a write cap: forms to upload, mkdir, rename and delete
  std::string info_href;
  std::string json_href;
  std::vector<EntryRow> entries;  // in the order shown
};
std::string render_directory(const DirectoryView& view);

// An info page (GET /uri/CAP?t=info).
struct InfoView {
  std::string name;  // may be empty
  std::string kind;  // "immutable file", "mutable file", "directory", ...
  std::optional<std::uint64_t> size;
  std::string write_cap, read_cap, verify_cap;  // empty when this cap does not give it
  std::string open_href;                        // the file or directory page
  std::string download_href;                    // files only
  // Where the page's Check, Verify and Repair buttons POST ("/uri/CAP", the page's own cap,
  // the strongest it has); empty: no buttons.
  std::string check_path;
  bool can_repair = false;      // a mutable file's repair needs its write cap
  std::string repair_note;      // why there is no Repair button; may be empty
  bool can_deep_check = false;  // a directory this cap can list
};
std::string render_info(const InfoView& view);

// The answer to POST /uri/CAP?t=check without output=JSON.
struct CheckView {
  std::string name;                            // may be empty
  std::string kind;                            // as on the info page
  std::string info_href;                       // back to the info page
  bool verified = false;                       // verify=true: every block was read
  client::CheckResult check;                   // before any repair
  std::optional<client::RepairResult> repair;  // when repair=true
};
std::string render_check(const CheckView& view);

// The answer to POST /uri/DIRCAP?t=deep-check without output=JSON.
struct DeepCheckView {
  std::string name;  // may be empty
  std::string info_href;
  bool verified = false, repaired = false;
  client::DeepCheckSummary summary;
};
std::string render_deep_check(const DeepCheckView& view);

// The shared stylesheet and script, served at /static/lafs.css and /static/lafs.js, and the
// icon (SVG) at /favicon.ico.
std::string_view stylesheet();
std::string_view script();
std::string_view icon();

}  // namespace lafs::node::ui
