#include "core/node/web_ui.h"

#include <array>
#include <cstdio>

#include "core/node/aliases.h"

namespace lafs::node::ui {

namespace {

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm, proleptic Gregorian).
void civil_from_days(std::int64_t z, std::int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<std::int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

// The page around `body`: the stylesheet, a header, the status line the script writes to, and
// the script. `dir` (an API path, already escaped-safe) is where the script sends its calls.
std::string page(std::string_view title, std::string_view body_attrs, std::string_view body) {
  std::string out;
  out.reserve(body.size() + 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"referrer\" content=\"no-referrer\">\n";
  out += "<title>" + html_escape(title) + " - lafs</title>\n";
  out += "<link rel=\"stylesheet\" href=\"/static/lafs.css\">\n</head>\n";
  out += "<body";
  out += body_attrs;
  out += ">\n<header><a class=\"brand\" href=\"/\">lafs</a>";
  out += "<span class=\"tagline\">least-authority file store</span></header>\n<main>\n";
  out += body;
  out += "<p id=\"status\" role=\"status\"></p>\n</main>\n";
  out +=
      "<footer>Caps in this page's address are the keys to your files: share them "
      "deliberately. This page sends no referrer.</footer>\n";
  out += "<script src=\"/static/lafs.js\"></script>\n</body>\n</html>\n";
  return out;
}

std::string size_cell(const std::optional<std::uint64_t>& size) {
  if (!size) return "<td class=\"num\">-</td>";
  return "<td class=\"num\" title=\"" + std::to_string(*size) + " bytes\">" +
         html_escape(format_bytes(*size)) + "</td>";
}

std::string upload_form() {
  return "<form id=\"upload-form\" class=\"tool\">\n"
         "<label for=\"upload-file\">Upload a file</label>\n"
         "<input type=\"file\" id=\"upload-file\" name=\"file\" required>\n"
         "<button id=\"upload-button\" type=\"submit\">Upload</button>\n"
         "<progress id=\"upload-progress\" value=\"0\" max=\"1\" hidden></progress>\n"
         "</form>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr std::array<const char*, 6> kUnits{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes) / 1024.0;
  std::size_t u = 0;
  while (v >= 1024.0 && u + 1 < kUnits.size()) {
    v /= 1024.0;
    ++u;
  }
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%.1f %s", v, kUnits[u]);
  return buf.data();
}

std::string format_utc(WallTime t) {
  const std::int64_t secs = to_unix_seconds(t);
  std::int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, &y, &m, &d);
  std::array<char, 48> buf{};
  std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02u %02lld:%02lld:%02lld UTC",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  return buf.data();
}

std::string content_type_for(std::string_view filename) {
  const std::size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == filename.size()) {
    return "application/octet-stream";
  }
  std::string ext;
  for (char c : filename.substr(dot + 1)) ext.push_back(ascii_lower(c));
  struct Type {
    std::string_view ext, type;
  };
  static constexpr std::array<Type, 22> kTypes{{
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"txt", "text/plain; charset=utf-8"},
      {"md", "text/plain; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"css", "text/css"},
      {"js", "text/javascript"},
      {"json", "application/json"},
      {"xml", "application/xml"},
      {"pdf", "application/pdf"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"svg", "image/svg+xml"},
      {"mp3", "audio/mpeg"},
      {"ogg", "audio/ogg"},
      {"mp4", "video/mp4"},
      {"webm", "video/webm"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
  }};
  for (const Type& t : kTypes) {
    if (t.ext == ext) return std::string(t.type);
  }
  return "application/octet-stream";
}

std::string content_disposition(std::string_view filename) {
  std::string ascii;
  for (char c : filename) {
    const auto u = static_cast<unsigned char>(c);
    ascii.push_back((u < 0x20 || u >= 0x7f || c == '"' || c == '\\') ? '_' : c);
  }
  if (ascii.empty()) ascii = "download";
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + percent_encode(filename);
}

std::string render_welcome(const WelcomeView& v) {
  std::string b;
  b += "<h1>Node <span class=\"nick\">" + html_escape(v.nickname) + "</span></h1>\n";
  b += "<section class=\"cards\">\n<div class=\"card\" id=\"node\">\n<h2>This node</h2>\n<dl>\n";
  b += "<dt>Node key</dt><dd><code title=\"" + html_escape(v.node_key_hex) + "\">" +
       html_escape(v.node_key_hex.substr(0, 16)) + "&hellip;</code></dd>\n";
  b += "<dt>Version</dt><dd>" + html_escape(v.version) + "</dd>\n";
  b += "<dt>Encoding</dt><dd id=\"encoding\">" + std::to_string(v.needed) + "-of-" +
       std::to_string(v.total) + ", happy " + std::to_string(v.happy) + ", " +
       html_escape(format_bytes(v.segment_size)) + " segments</dd>\n";
  if (!v.maintenance.empty()) {
    b += "<dt>Maintenance</dt><dd id=\"maintenance\">" + html_escape(v.maintenance) + "</dd>\n";
  }
  b += "</dl>\n</div>\n";
  b += "<div class=\"card\" id=\"introducer\">\n<h2>Introducer</h2>\n";
  if (v.introducer_connected) {
    b += "<p class=\"ok\" id=\"introducer-status\">connected</p>\n";
  } else if (v.introducer_polls == 0 && v.introducer_failures == 0) {
    b += "<p class=\"warn\" id=\"introducer-status\">connecting&hellip;</p>\n";
  } else {
    b += "<p class=\"bad\" id=\"introducer-status\">not reachable (" +
         std::to_string(v.introducer_failures) +
         " failed polls in a row); working from the servers it announced before</p>\n";
  }
  b += "<p>" + std::to_string(v.introducer_polls) + " successful polls</p>\n</div>\n";
  b += "<div class=\"card\" id=\"start\">\n<h2>Start</h2>\n";
  b += "<form id=\"create-directory-form\" class=\"tool\">"
       "<button id=\"create-directory\" type=\"submit\">Create a directory</button></form>\n";
  b += "<form id=\"open-form\" class=\"tool\" method=\"get\" action=\"/uri\">\n"
       "<label for=\"open-cap\">Open a cap</label>\n"
       "<input id=\"open-cap\" name=\"uri\" placeholder=\"lafs1:dir:...\" autocomplete=\"off\" "
       "required>\n<button type=\"submit\">Open</button>\n</form>\n";
  b += upload_form();
  b += "<p id=\"upload-result\"></p>\n</div>\n</section>\n";
  b += "<h2>Storage servers <span class=\"count\" id=\"server-count\">" +
       std::to_string(v.servers.size()) + "</span></h2>\n";
  if (v.servers.empty()) {
    b += "<p class=\"empty\">No storage servers known yet: the introducer has announced none "
         "to this node.</p>\n";
  } else {
    b += "<table id=\"servers\">\n<thead><tr><th>Nickname</th><th>Node key</th><th>Address</th>"
         "<th class=\"num\">Available</th><th>Mode</th><th>Last contact</th></tr></thead>\n"
         "<tbody>\n";
    for (const ServerRow& s : v.servers) {
      b += "<tr class=\"server\"><td class=\"nick\">" + html_escape(s.nickname) + "</td>";
      b += "<td><code title=\"" + html_escape(s.node_key_hex) + "\">" +
           html_escape(s.node_key_hex.substr(0, 12)) + "</code></td>";
      b += "<td><code>" + html_escape(s.address) + "</code></td>";
      b += size_cell(s.available_bytes);
      b += std::string("<td>") + (s.read_only ? "read-only" : "read-write") + "</td>";
      b += "<td>" + html_escape(s.last_contact) + "</td></tr>\n";
    }
    b += "</tbody>\n</table>\n";
  }
  return page("Node " + v.nickname, "", b);
}

std::string render_directory(const DirectoryView& v) {
  std::string b;
  b += "<nav class=\"crumbs\" id=\"crumbs\">";
  // At the root the heading says it all; below it, the way back.
  for (std::size_t i = 0; i < v.crumbs.size() && v.crumbs.size() > 1; ++i) {
    if (i > 0) b += "<span class=\"sep\">/</span>";
    if (i + 1 == v.crumbs.size()) {
      b += "<span class=\"here\">" + html_escape(v.crumbs[i].label) + "</span>";
    } else {
      b += "<a href=\"" + html_escape(v.crumbs[i].href) + "\">" + html_escape(v.crumbs[i].label) +
           "</a>";
    }
  }
  b += "</nav>\n";
  const std::string title = v.crumbs.empty() ? std::string("Directory") : v.crumbs.back().label;
  b += "<h1>" + html_escape(title) + "</h1>\n";
  b += "<p class=\"meta\"><span class=\"badge\" id=\"mode\">" +
       std::string(v.writable ? "writable" : "read-only") + "</span> " +
       std::to_string(v.entries.size()) + (v.entries.size() == 1 ? " entry" : " entries") +
       " &middot; <a id=\"dir-info\" href=\"" + html_escape(v.info_href) +
       "\">info</a> &middot; <a id=\"dir-json\" href=\"" + html_escape(v.json_href) +
       "\">JSON</a></p>\n";
  if (v.entries.empty()) {
    b += "<p class=\"empty\" id=\"empty-note\">This directory is empty.</p>\n";
  } else {
    b += "<table id=\"entries\">\n<thead><tr><th>Name</th><th>Kind</th><th class=\"num\">Size"
         "</th><th>Modified</th><th></th></tr></thead>\n<tbody>\n";
    for (const EntryRow& e : v.entries) {
      const std::string name = html_escape(e.name);
      b += "<tr class=\"entry\" data-name=\"" + name + "\">";
      b += std::string("<td class=\"name ") + (e.directory ? "dir" : "file") + "\"><a href=\"" +
           html_escape(e.href) + "\">" + name + "</a></td>";
      b += std::string("<td class=\"kind\">") +
           (e.directory ? "directory" : (e.mutable_file ? "mutable file" : "file")) + "</td>";
      b += e.directory ? std::string("<td class=\"num\">-</td>") : size_cell(e.size);
      b += "<td class=\"when\">" + (e.modified ? html_escape(format_utc(*e.modified)) : "") +
           "</td>";
      b += "<td class=\"actions\"><a class=\"info\" href=\"" + html_escape(e.info_href) +
           "\">info</a>";
      if (!e.directory) {
        b += " <a class=\"download\" href=\"" + html_escape(e.href) +
             "&amp;save=true\" download=\"" + name + "\">download</a>";
      }
      if (v.writable) {
        b += " <button type=\"button\" class=\"delete\" data-name=\"" + name + "\">delete</button>";
      }
      b += "</td></tr>\n";
    }
    b += "</tbody>\n</table>\n";
  }
  if (v.writable) {
    b += "<section class=\"tools\" id=\"tools\">\n";
    b += upload_form();
    b += "<form id=\"mkdir-form\" class=\"tool\">\n<label for=\"mkdir-name\">New directory"
         "</label>\n<input id=\"mkdir-name\" name=\"name\" placeholder=\"name\" "
         "autocomplete=\"off\" required>\n<button id=\"mkdir-button\" type=\"submit\">Create"
         "</button>\n</form>\n";
    if (!v.entries.empty()) {
      b += "<form id=\"rename-form\" class=\"tool\">\n<label for=\"rename-from\">Rename</label>\n"
           "<select id=\"rename-from\" name=\"from\">\n";
      for (const EntryRow& e : v.entries) {
        b += "<option value=\"" + html_escape(e.name) + "\">" + html_escape(e.name) + "</option>\n";
      }
      b += "</select>\n<label for=\"rename-to\">to</label>\n<input id=\"rename-to\" name=\"to\" "
           "placeholder=\"new name\" autocomplete=\"off\" required>\n<button id=\"rename-button\" "
           "type=\"submit\">Rename</button>\n</form>\n";
    }
    b += "</section>\n";
  } else {
    b += "<p class=\"note\" id=\"readonly-note\">You are looking through a read cap: this "
         "directory can be read here, not changed.</p>\n";
  }
  return page(title, " data-dir=\"" + html_escape(v.api_path) + "\"", b);
}

std::string render_info(const InfoView& v) {
  std::string b;
  const std::string title = v.name.empty() ? "Unnamed " + v.kind : v.name;
  b += "<h1>" + html_escape(title) + "</h1>\n<dl id=\"info\">\n";
  b += "<dt>Kind</dt><dd id=\"info-kind\">" + html_escape(v.kind) + "</dd>\n";
  if (v.size) {
    b += "<dt>Size</dt><dd id=\"info-size\">" + html_escape(format_bytes(*v.size)) + " (" +
         std::to_string(*v.size) + " bytes)</dd>\n";
  }
  auto cap_row = [&](std::string_view label, std::string_view id, const std::string& cap,
                     std::string_view help) {
    if (cap.empty()) return;
    b += "<dt>" + std::string(label) + "</dt><dd><code class=\"cap\" id=\"" + std::string(id) +
         "\">" + html_escape(cap) + "</code><br><small>" + std::string(help) + "</small></dd>\n";
  };
  cap_row("Write cap", "write-cap", v.write_cap, "reads and changes it: keep it secret");
  cap_row("Read cap", "read-cap", v.read_cap, "reads it: give it to whoever may read");
  cap_row("Verify cap", "verify-cap", v.verify_cap,
          "checks and repairs it without reading: for a repair service");
  b += "</dl>\n<p class=\"links\"><a id=\"info-open\" href=\"" + html_escape(v.open_href) +
       "\">Open</a>";
  if (!v.download_href.empty()) {
    b += " &middot; <a id=\"info-download\" href=\"" + html_escape(v.download_href) +
         "\" download=\"" + html_escape(v.name) + "\">Download</a>";
  }
  b += "</p>\n";
  if (!v.check_path.empty()) {
    // The buttons POST through the page's script (with the CSRF guard header) and show the
    // answer in #check-result; without the script there is nothing to press.
    b += "<section class=\"card\" id=\"check\" data-check=\"" + html_escape(v.check_path) +
         "\">\n<h2>Check and repair</h2>\n<p>Check asks the storage servers which shares they "
         "hold; Verify also reads every block and checks it against the file's hashes; Repair "
         "checks and then regenerates missing or damaged shares.</p>\n"
         "<form id=\"check-form\" class=\"tool\">\n"
         "<button type=\"button\" id=\"check-button\">Check</button>\n"
         "<button type=\"button\" id=\"verify-button\">Verify</button>\n";
    if (v.can_repair) b += "<button type=\"button\" id=\"repair-button\">Repair</button>\n";
    if (v.can_deep_check) {
      b += "<button type=\"button\" id=\"deep-check-button\">Check everything in it</button>\n";
    }
    b += "</form>\n";
    if (!v.repair_note.empty()) {
      b += "<p class=\"note\" id=\"repair-note\">" + html_escape(v.repair_note) + "</p>\n";
    }
    b += "<div id=\"check-result\" role=\"status\"></div>\n</section>\n";
  }
  return page(title, "", b);
}

namespace {

// "Healthy", "Not healthy" or "Not recoverable", as the class of the verdict line.
std::string_view verdict_class(const client::CheckResult& r) {
  if (r.healthy) return "ok";
  return r.recoverable ? "warn" : "bad";
}

std::string verdict_text(const client::CheckResult& r) {
  if (r.is_literal) return "Healthy: a literal, whose data is in its cap (it has no shares)";
  if (r.healthy) return "Healthy";
  return (r.recoverable ? "Not healthy: " : "Not recoverable: ") + r.summary;
}

std::string short_key(const std::string& hex) {
  return "<code title=\"" + html_escape(hex) + "\">" + html_escape(hex.substr(0, 12)) + "</code>";
}

// One check's result; `id` prefixes the ids of its parts ("check", "after").
std::string check_block(const client::CheckResult& r, std::string_view id) {
  const std::string p(id);
  std::string b;
  b += "<p class=\"" + std::string(verdict_class(r)) + "\" id=\"" + p + "-verdict\">" +
       html_escape(verdict_text(r)) + "</p>\n";
  if (r.is_literal) return b;
  b += "<dl id=\"" + p + "-facts\">\n";
  b += "<dt>Summary</dt><dd>" + html_escape(r.summary) + "</dd>\n";
  b += "<dt>Storage index</dt><dd><code>" + html_escape(r.storage_index) + "</code></dd>\n";
  b += "<dt>Encoding</dt><dd>" + std::to_string(r.needed) + "-of-" + std::to_string(r.total) +
       ", happy " + std::to_string(r.happy) + "</dd>\n";
  b += "<dt>Good shares</dt><dd id=\"" + p + "-shares\">" + std::to_string(r.distinct_shares) +
       " distinct of " + std::to_string(r.total) + " (" + std::to_string(r.shares_found) +
       " found on " + std::to_string(r.good_hosts) + " servers)</dd>\n";
  b += "<dt>Happiness</dt><dd>" + std::to_string(r.happiness) + " (healthy needs " +
       std::to_string(r.happy) + ", or every server that answered)</dd>\n";
  b += "<dt>Servers</dt><dd>" + std::to_string(r.servers_responding) + " of " +
       std::to_string(r.servers_queried) + " answered</dd>\n";
  if (r.leases_renewed > 0) {
    b += "<dt>Leases</dt><dd>" + std::to_string(r.leases_renewed) + " added or renewed</dd>\n";
  }
  b += "</dl>\n";
  if (!r.share_map.empty()) {
    b += "<table id=\"" + p +
         "-share-map\">\n<thead><tr><th class=\"num\">Share</th>"
         "<th>Servers</th></tr></thead>\n<tbody>\n";
    for (const auto& [share, servers] : r.share_map) {
      b += "<tr><td class=\"num\">" + std::to_string(share) + "</td><td>";
      for (std::size_t i = 0; i < servers.size(); ++i) {
        if (i > 0) b += " ";
        b += short_key(servers[i]);
      }
      b += "</td></tr>\n";
    }
    b += "</tbody>\n</table>\n";
  }
  if (!r.corrupt.empty()) {
    b += "<h3>Corrupt shares</h3>\n<table id=\"" + p +
         "-corrupt\">\n<thead><tr>"
         "<th class=\"num\">Share</th><th>Server</th><th>Problem</th></tr></thead>\n<tbody>\n";
    for (const client::CorruptShare& c : r.corrupt) {
      b += "<tr><td class=\"num\">" + std::to_string(c.share) + "</td><td>" + short_key(c.server) +
           "</td><td>" + html_escape(c.problem) + "</td></tr>\n";
    }
    b += "</tbody>\n</table>\n";
  }
  if (!r.versions.empty()) {
    b += "<h3>Versions seen</h3>\n<table id=\"" + p +
         "-versions\">\n<thead><tr>"
         "<th class=\"num\">Sequence</th><th>Root</th><th class=\"num\">Distinct shares</th>"
         "<th>Recoverable</th></tr></thead>\n<tbody>\n";
    for (const client::VersionSeen& s : r.versions) {
      std::string root;
      for (std::size_t i = 0; i < 8 && i < s.version.root.size(); ++i) {
        static constexpr char kHex[] = "0123456789abcdef";
        root.push_back(kHex[s.version.root[i] >> 4]);
        root.push_back(kHex[s.version.root[i] & 15]);
      }
      b += "<tr><td class=\"num\">" + std::to_string(s.version.seqnum) + "</td><td><code>" + root +
           "</code></td><td class=\"num\">" + std::to_string(s.distinct_shares) + "</td><td>" +
           (s.recoverable ? "yes" : "no") + "</td></tr>\n";
    }
    b += "</tbody>\n</table>\n";
  }
  return b;
}

}  // namespace

std::string render_check(const CheckView& v) {
  std::string b;
  const std::string title = "Check: " + (v.name.empty() ? "unnamed " + v.kind : v.name);
  b += "<h1>" + html_escape(title) + "</h1>\n";
  b += "<p class=\"meta\">" + html_escape(v.kind) + " &middot; " +
       (v.verified ? "every block read and verified" : "shares listed, not read") +
       " &middot; <a id=\"check-info\" href=\"" + html_escape(v.info_href) + "\">info</a></p>\n";
  b += "<section class=\"card\" id=\"check-before\">\n<h2>" +
       std::string(v.repair ? "Before the repair" : "Result") + "</h2>\n";
  b += check_block(v.check, "check");
  b += "</section>\n";
  if (v.repair) {
    const client::RepairResult& r = *v.repair;
    std::string cls = r.successful ? "ok" : "bad";
    std::string text;
    if (!r.attempted) {
      text = r.successful ? "No repair needed" : "Repair not attempted";
    } else {
      text = r.successful ? "Repair successful" : "Repair unsuccessful";
      text += ": " + std::to_string(r.shares_written) + " shares written";
    }
    if (!r.problem.empty()) text += " (" + r.problem + ")";
    b += "<section class=\"card\" id=\"repair\">\n<h2>Repair</h2>\n<p class=\"" + cls +
         "\" id=\"repair-verdict\">" + html_escape(text) + "</p>\n";
    if (r.after) {
      b += "<h3>After the repair</h3>\n" + check_block(*r.after, "after");
    }
    b += "</section>\n";
  }
  return page(title, "", b);
}

std::string render_deep_check(const DeepCheckView& v) {
  const client::DeepCheckSummary& s = v.summary;
  std::string b;
  const std::string title = "Deep-check: " + (v.name.empty() ? "directory" : v.name);
  b += "<h1>" + html_escape(title) + "</h1>\n";
  b += "<p class=\"meta\">" +
       std::string(v.verified ? "every block read and verified" : "shares listed, not read") +
       (v.repaired ? ", unhealthy objects repaired" : "") +
       " &middot; <a id=\"check-info\" href=\"" + html_escape(v.info_href) + "\">info</a></p>\n";
  // Unhealthy counts the objects before any repair; a successful repair made one healthy.
  const std::uint64_t repaired = v.repaired ? s.repairs_successful : 0;
  const std::uint64_t remaining =
      s.objects_unhealthy > repaired ? s.objects_unhealthy - repaired : 0;
  const bool clean = remaining == 0 && s.errors == 0;
  b += "<p class=\"" + std::string(clean ? "ok" : "bad") + "\" id=\"deep-check-verdict\">" +
       std::to_string(s.objects_checked) +
       " objects checked: " + std::to_string(s.objects_healthy) + " healthy, " +
       std::to_string(s.objects_unhealthy) + " unhealthy, " +
       std::to_string(s.objects_unrecoverable) + " unrecoverable, " + std::to_string(s.errors) +
       " could not be checked" +
       (v.repaired ? "; " + std::to_string(remaining) + " unhealthy after repair" : "") + "</p>\n";
  b += "<dl id=\"deep-check-facts\">\n";
  b += "<dt>Directories</dt><dd>" + std::to_string(s.directories) + "</dd>\n";
  b += "<dt>Files</dt><dd>" + std::to_string(s.files) + "</dd>\n";
  if (v.repaired) {
    b += "<dt>Repairs</dt><dd>" + std::to_string(s.repairs_attempted) + " attempted, " +
         std::to_string(s.repairs_successful) + " successful</dd>\n";
  }
  if (s.leases_renewed > 0) {
    b += "<dt>Leases</dt><dd>" + std::to_string(s.leases_renewed) + " added or renewed</dd>\n";
  }
  b += "<dt>Cost</dt><dd>" + std::to_string(s.cost.rpcs) + " calls, " +
       html_escape(format_bytes(s.cost.bytes_read)) + " read, " +
       html_escape(format_bytes(s.cost.bytes_written)) + " written</dd>\n</dl>\n";
  if (!s.unhealthy_paths.empty()) {
    b += "<h2>Unhealthy</h2>\n<ul id=\"unhealthy-paths\">\n";
    for (const std::string& p : s.unhealthy_paths) {
      b += "<li><code>" + html_escape(p.empty() ? std::string("(the directory itself)") : p) +
           "</code></li>\n";
    }
    b += "</ul>\n";
  }
  return page(title, "", b);
}

std::string_view stylesheet() {
  static constexpr std::string_view kCss = R"css(
:root { --fg: #1d2330; --muted: #5b6478; --line: #dde2ea; --bg: #f6f8fb; --card: #fff;
        --accent: #2b5fd9; --ok: #1f7a3e; --bad: #b3261e; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 1em; padding: .7em 2em;
         background: #1d2330; color: #fff; }
header .brand { color: #fff; font-weight: 700; font-size: 1.3em; text-decoration: none; }
header .tagline { color: #aab3c5; font-size: .9em; }
main { max-width: 1100px; margin: 0 auto; padding: 1.2em 2em 2em; }
footer { max-width: 1100px; margin: 0 auto; padding: 0 2em 2em; color: var(--muted);
         font-size: .85em; }
h1 { font-size: 1.6em; margin: .3em 0 .4em; word-break: break-all; }
h2 { font-size: 1.15em; margin: 1.2em 0 .5em; }
.card h2 { margin-top: 0; }
a { color: var(--accent); }
code { font-family: "DejaVu Sans Mono", monospace; font-size: .9em; }
code.cap { word-break: break-all; background: #eef1f6; padding: .1em .3em; border-radius: 3px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 1em; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
        padding: 1em 1.2em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1em; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; }
table { width: 100%; border-collapse: collapse; background: var(--card);
        border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: .45em .8em; border-bottom: 1px solid var(--line); }
th { background: #eef1f6; font-weight: 600; font-size: .9em; color: var(--muted); }
tr:last-child td { border-bottom: 0; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name.dir a::after { content: "/"; color: var(--muted); }
td.name a { font-weight: 600; text-decoration: none; }
td.when { color: var(--muted); font-size: .9em; white-space: nowrap; }
td.actions { white-space: nowrap; text-align: right; }
td.actions a, td.actions button { margin-left: .6em; font-size: .9em; }
.crumbs { color: var(--muted); font-size: .95em; }
.crumbs .sep { margin: 0 .4em; }
.crumbs .here { color: var(--fg); }
.meta { color: var(--muted); }
.badge { display: inline-block; padding: 0 .5em; border-radius: 1em; background: #e3ebfd;
         color: var(--accent); font-size: .85em; font-weight: 600; }
.count { color: var(--muted); font-weight: 400; }
.tools { display: grid; gap: .8em; margin-top: 1.4em; }
form.tool { display: flex; flex-wrap: wrap; align-items: center; gap: .5em; margin: .4em 0; }
form.tool label { color: var(--muted); }
form.tool label:first-child { min-width: 8em; }
input[type=file] { max-width: 100%; }
input, select, button { font: inherit; padding: .3em .6em; border: 1px solid #c3cad6;
                        border-radius: 5px; background: #fff; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.delete { background: #fff; color: var(--bad); border-color: #e3b3ae; }
.ok { color: var(--ok); font-weight: 600; }
.bad, .error { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); font-weight: 600; }
.empty, .note { color: var(--muted); font-style: italic; }
#status:empty { display: none; }
#status { margin-top: 1em; padding: .5em .8em; border-radius: 5px; background: #eef1f6; }
progress { width: 12em; }
)css";
  return kCss.substr(1);
}

std::string_view script() {
  // Every change goes through the web API with the CSRF guard header; nothing here builds
  // HTML from strings (textContent only), so names from the grid cannot inject markup.
  static constexpr std::string_view kJs = R"js(
"use strict";
(function () {
  const GUARD = { "X-Lafs-Request": "1" };
  const statusLine = document.getElementById("status");
  const dir = document.body.dataset.dir || "";
  function say(message, bad) {
    if (!statusLine) return;
    statusLine.textContent = message;
    statusLine.className = bad ? "error" : "ok";
  }
  async function call(method, url) {
    const answer = await fetch(url, { method: method, headers: GUARD, credentials: "same-origin" });
    const text = (await answer.text()).trim();
    if (!answer.ok) throw new Error(answer.status + " " + text);
    return text;
  }
  const enc = encodeURIComponent;
  // Caps are made of characters legal in a path; anything else is escaped.
  function capPath(cap) { return /^[a-z0-9:-]+$/.test(cap) ? cap : enc(cap); }

  const create = document.getElementById("create-directory-form");
  if (create) create.addEventListener("submit", async function (event) {
    event.preventDefault();
    try {
      const cap = await call("POST", "/uri?t=mkdir");
      window.location.assign("/uri/" + capPath(cap) + "/");
    } catch (err) { say("Could not create a directory: " + err.message, true); }
  });

  const upload = document.getElementById("upload-form");
  if (upload) upload.addEventListener("submit", function (event) {
    event.preventDefault();
    const file = document.getElementById("upload-file").files[0];
    if (!file) { say("Choose a file first.", true); return; }
    const bar = document.getElementById("upload-progress");
    const button = document.getElementById("upload-button");
    const request = new XMLHttpRequest();
    request.open("PUT", dir ? dir + "/" + enc(file.name) : "/uri");
    request.setRequestHeader("X-Lafs-Request", "1");
    request.upload.onprogress = function (e) {
      if (e.lengthComputable && bar) { bar.hidden = false; bar.max = e.total; bar.value = e.loaded; }
    };
    request.onload = function () {
      button.disabled = false;
      if (request.status < 200 || request.status >= 300) {
        say("Upload failed: " + request.status + " " + request.responseText.trim(), true);
        return;
      }
      if (dir) { window.location.reload(); return; }
      const cap = request.responseText.trim();
      const result = document.getElementById("upload-result");
      const link = document.createElement("a");
      link.href = "/uri/" + capPath(cap) + "?t=info&filename=" + enc(file.name);
      link.textContent = file.name;
      result.replaceChildren("Uploaded ", link, " (unlinked: keep its cap, on its info page).");
      say("Uploaded " + file.name + ".", false);
    };
    request.onerror = function () {
      button.disabled = false;
      say("Upload failed: the gateway did not answer.", true);
    };
    button.disabled = true;
    say("Uploading " + file.name + "...", false);
    request.send(file);
  });

  const mkdir = document.getElementById("mkdir-form");
  if (mkdir) mkdir.addEventListener("submit", async function (event) {
    event.preventDefault();
    const name = document.getElementById("mkdir-name").value;
    try {
      await call("POST", dir + "?t=mkdir&name=" + enc(name));
      window.location.reload();
    } catch (err) { say("Could not create " + name + ": " + err.message, true); }
  });

  const rename = document.getElementById("rename-form");
  if (rename) rename.addEventListener("submit", async function (event) {
    event.preventDefault();
    const from = document.getElementById("rename-from").value;
    const to = document.getElementById("rename-to").value;
    try {
      await call("POST", dir + "?t=rename&from_name=" + enc(from) + "&to_name=" + enc(to) +
                 "&replace=false");
      window.location.reload();
    } catch (err) { say("Could not rename " + from + ": " + err.message, true); }
  });

  // The info page's Check, Verify, Repair (and, for a directory, deep-check) buttons: the
  // JSON answer (docs/webapi.md "Checking") shown as text.
  const checkCard = document.getElementById("check");
  if (checkCard && checkCard.dataset.check) {
    const target = checkCard.dataset.check;
    const out = document.getElementById("check-result");
    const buttons = checkCard.querySelectorAll("button");
    function para(text, cls) {
      const p = document.createElement("p");
      p.textContent = text;
      if (cls) p.className = cls;
      return p;
    }
    function checkLines(r) {
      if (r.is_literal) {
        return [para("Healthy: a literal, whose data is in its cap (it has no shares).", "ok")];
      }
      const lines = [];
      if (r.healthy) lines.push(para("Healthy", "ok"));
      else lines.push(para((r.recoverable ? "Not healthy: " : "Not recoverable: ") + r.summary,
                           r.recoverable ? "warn" : "bad"));
      lines.push(para("Good shares: " + r.distinct_shares + " distinct of " + r.total + " (" +
                      r.needed + " needed), " + r.shares_found + " found on " + r.good_hosts +
                      " servers; happiness " + r.happiness + " (healthy needs " + r.happy + ")"));
      lines.push(para("Servers: " + r.servers_responding + " of " + r.servers_queried +
                      " answered"));
      if (r.leases_renewed > 0) lines.push(para("Leases added or renewed: " + r.leases_renewed));
      if (r.corrupt && r.corrupt.length > 0) {
        lines.push(para("Corrupt shares:", "bad"));
        const list = document.createElement("ul");
        r.corrupt.forEach(function (c) {
          const item = document.createElement("li");
          item.textContent = "share " + c.share + " on server " + String(c.server).slice(0, 12) +
                             ": " + c.problem;
          list.appendChild(item);
        });
        lines.push(list);
      }
      return lines;
    }
    function repairLines(r) {
      let text;
      if (!r.attempted) text = r.successful ? "No repair needed." : "Repair not attempted.";
      else text = (r.successful ? "Repair successful: " : "Repair unsuccessful: ") +
                  r.shares_written + " shares written.";
      if (r.problem) text += " " + r.problem;
      return [para(text, r.successful ? "ok" : "bad")].concat(checkLines(r.after || r.before));
    }
    function deepLines(s) {  // without repair=true: unhealthy is what remains
      const lines = [para(s.objects_checked + " objects checked: " + s.objects_healthy +
                          " healthy, " + s.objects_unhealthy + " unhealthy, " +
                          s.objects_unrecoverable + " unrecoverable, " + s.errors +
                          " could not be checked",
                          s.objects_unhealthy === 0 && s.errors === 0 ? "ok" : "bad")];
      if (s.unhealthy_paths && s.unhealthy_paths.length > 0) {
        const list = document.createElement("ul");
        s.unhealthy_paths.forEach(function (path) {
          const item = document.createElement("li");
          item.textContent = path === "" ? "(the directory itself)" : path;
          list.appendChild(item);
        });
        lines.push(list);
      }
      return lines;
    }
    async function runCheck(label, query, show) {
      buttons.forEach(function (b) { b.disabled = true; });
      out.replaceChildren(para(label + "...", ""));
      try {
        const answer = JSON.parse(await call("POST", target + "?" + query + "&output=JSON"));
        out.replaceChildren.apply(out, show(answer));
      } catch (err) {
        out.replaceChildren(para(label + " failed: " + err.message, "error"));
      } finally {
        buttons.forEach(function (b) { b.disabled = false; });
      }
    }
    const actions = [["check-button", "Checking", "t=check", checkLines],
                     ["verify-button", "Verifying", "t=check&verify=true", checkLines],
                     ["repair-button", "Repairing", "t=check&repair=true", repairLines],
                     ["deep-check-button", "Checking everything", "t=deep-check", deepLines]];
    actions.forEach(function (a) {
      const button = document.getElementById(a[0]);
      if (button) button.addEventListener("click", function () { runCheck(a[1], a[2], a[3]); });
    });
  }

  document.querySelectorAll("button.delete").forEach(function (button) {
    button.addEventListener("click", async function () {
      const name = button.dataset.name;
      if (!window.confirm("Remove " + name + " from this directory?")) return;
      try {
        await call("DELETE", dir + "/" + enc(name));
        window.location.reload();
      } catch (err) { say("Could not delete " + name + ": " + err.message, true); }
    });
  });
})();
)js";
  return kJs.substr(1);
}

std::string_view icon() {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">"
         "<rect width=\"16\" height=\"16\" rx=\"3\" fill=\"#1d2330\"/>"
         "<path d=\"M4 3v10h8\" stroke=\"#fff\" stroke-width=\"2\" fill=\"none\"/></svg>";
}

}  // namespace lafs::node::ui
