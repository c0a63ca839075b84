// The web UI's pure parts (core/node/web_ui.h): escaping, formatting, content types and the
// pages rendered from views. The pages served by a node are tested in web_api_test.cc, and in
// a real browser by tests/browser/web_ui_browser_test.py.
#include "core/node/web_ui.h"

#include <gtest/gtest.h>

#include <cctype>

namespace lafs::node::ui {
namespace {

TEST(WebUi, HtmlEscapeCoversTextAndBothQuotes) {
  EXPECT_EQ(html_escape("<a href=\"x\" title='y'>&amp;</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
  EXPECT_EQ(html_escape("caf\xc3\xa9 plain"), "caf\xc3\xa9 plain");
  EXPECT_EQ(html_escape(""), "");
}

TEST(WebUi, FormatBytesUsesBinaryUnits) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(std::uint64_t{128} << 20), "128.0 MiB");
  EXPECT_EQ(format_bytes(std::uint64_t{3} << 40), "3.0 TiB");
  EXPECT_EQ(format_bytes(UINT64_MAX), "16.0 EiB");
}

TEST(WebUi, FormatUtcKnownAnswers) {
  EXPECT_EQ(format_utc(from_unix_seconds(0)), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(format_utc(from_unix_seconds(951782400)), "2000-02-29 00:00:00 UTC");  // leap day
  EXPECT_EQ(format_utc(from_unix_seconds(1796655845)), "2026-12-07 15:04:05 UTC");
  EXPECT_EQ(format_utc(from_unix_seconds(-1)), "1969-12-31 23:59:59 UTC");
}

TEST(WebUi, ContentTypesComeFromTheExtension) {
  EXPECT_EQ(content_type_for("index.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("a.b.png"), "image/png");
  EXPECT_EQ(content_type_for("notes.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_for("archive.tar.gz"), "application/gzip");
  for (const char* unknown : {"", "README", "x.", ".", "x.exe", "x.htmlx"}) {
    EXPECT_EQ(content_type_for(unknown), "application/octet-stream") << unknown;
  }
}

TEST(WebUi, ContentDispositionKeepsTheExactNameAndASafeFallback) {
  EXPECT_EQ(content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
  EXPECT_EQ(content_disposition("a \"b\"\\\r\n.txt"),
            "attachment; filename=\"a _b____.txt\"; filename*=UTF-8''a%20%22b%22%5C%0D%0A.txt");
  EXPECT_EQ(content_disposition("caf\xc3\xa9"),
            "attachment; filename=\"caf__\"; filename*=UTF-8''caf%C3%A9");
  EXPECT_EQ(content_disposition(""), "attachment; filename=\"download\"; filename*=UTF-8''");
}

TEST(WebUi, TheWelcomePageSaysWhenThereAreNoServers) {
  WelcomeView v;
  v.nickname = "<b>me</b>";
  v.node_key_hex = std::string(64, 'a');
  const std::string html = render_welcome(v);
  EXPECT_NE(html.find("No storage servers known yet"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;me&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>me"), std::string::npos);
  EXPECT_NE(html.find("connecting"), std::string::npos);
  v.introducer_failures = 3;
  EXPECT_NE(render_welcome(v).find("3 failed polls in a row"), std::string::npos);
}

TEST(WebUi, PagesCarryNoInlineScriptOrStyle) {
  // The pages' policy (kPagePolicy) allows scripts and styles from the gateway only: anything
  // inline would be refused by the browser, so none may be rendered.
  DirectoryView d;
  d.api_path = "/uri/lafs1:dir:x";
  d.crumbs = {{"root", "/uri/lafs1:dir:x/"}};
  d.writable = true;
  d.entries.push_back({"f", false, false, 3, from_unix_seconds(0), "/uri/y?filename=f", "/i"});
  InfoView i;
  i.kind = "immutable file";
  for (const std::string& html : {render_welcome({}), render_directory(d), render_info(i)}) {
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_EQ(html.find("<style"), std::string::npos);
    EXPECT_EQ(html.find(" style="), std::string::npos);
    EXPECT_EQ(html.find(" on"), std::string::npos);  // onclick=, onload=, ...
    EXPECT_NE(html.find("<script src=\"/static/lafs.js\"></script>"), std::string::npos);
  }
}

// No attribute that runs script: onclick=, onload=, ...
bool has_event_handler(const std::string& html) {
  for (std::size_t at = html.find(" on"); at != std::string::npos; at = html.find(" on", at + 1)) {
    std::size_t i = at + 3;
    while (i < html.size() && std::isalpha(static_cast<unsigned char>(html[i]))) ++i;
    if (i > at + 3 && i < html.size() && html[i] == '=') return true;
  }
  return false;
}

client::CheckResult hostile_check() {
  client::CheckResult r;
  r.storage_index = "<si>";
  r.needed = 3;
  r.happy = 7;
  r.total = 10;
  r.servers_queried = r.servers_responding = 5;
  r.shares_found = r.distinct_shares = 2;
  r.good_hosts = r.happiness = 2;
  r.recoverable = false;
  r.summary = "<script>alert(1)</script>";
  r.share_map[0] = {"\"><img src=x>"};
  r.corrupt.push_back({4, "'server'", "<b>bad block</b>"});
  client::VersionSeen v;
  v.version.seqnum = 7;
  v.distinct_shares = 2;
  r.versions.push_back(v);
  return r;
}

TEST(WebUi, TheCheckPageEscapesEverythingFromTheServers) {
  CheckView v;
  v.name = "<i>name</i>";
  v.kind = "mutable file";
  v.info_href = "/uri/x?t=info&filename=\"q\"";
  v.check = hostile_check();
  client::RepairResult rep;
  rep.attempted = true;
  rep.problem = "<u>no servers</u>";
  rep.before = v.check;
  rep.after = v.check;
  v.repair = rep;
  const std::string html = render_check(v);
  EXPECT_NE(html.find("<h1>Check: &lt;i&gt;name&lt;/i&gt;</h1>"), std::string::npos) << html;
  EXPECT_NE(html.find("id=\"check-verdict\">Not recoverable: &lt;script&gt;"), std::string::npos)
      << html;
  EXPECT_NE(html.find("id=\"after-verdict\""), std::string::npos);
  EXPECT_NE(html.find("id=\"repair-verdict\">Repair unsuccessful: 0 shares written "
                      "(&lt;u&gt;no servers&lt;/u&gt;)"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("&lt;b&gt;bad block&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("href=\"/uri/x?t=info&amp;filename=&quot;q&quot;\""), std::string::npos);
  for (const char* raw : {"<script>", "<img", "<b>", "<u>", "<i>", "'server'", "<si>"}) {
    EXPECT_EQ(html.find(raw), std::string::npos) << raw;
  }
  EXPECT_FALSE(has_event_handler(html));

  // A literal says so and nothing else; a healthy file is "Healthy".
  CheckView lit;
  lit.kind = "literal file";
  lit.check.is_literal = lit.check.healthy = lit.check.recoverable = true;
  EXPECT_NE(render_check(lit).find("id=\"check-verdict\">Healthy: a literal"), std::string::npos);
  EXPECT_EQ(render_check(lit).find("check-share-map"), std::string::npos);
}

TEST(WebUi, TheDeepCheckPageEscapesPaths) {
  DeepCheckView v;
  v.name = "docs";
  v.repaired = true;
  v.summary.objects_checked = 3;
  v.summary.objects_healthy = 1;
  v.summary.objects_unhealthy = 2;
  v.summary.repairs_attempted = 2;
  v.summary.repairs_successful = 1;
  v.summary.unhealthy_paths = {"", "a/<script>.txt"};
  const std::string html = render_deep_check(v);
  EXPECT_NE(html.find("3 objects checked: 1 healthy, 2 unhealthy, 0 unrecoverable, 0 could not "
                      "be checked; 1 unhealthy after repair"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("class=\"bad\" id=\"deep-check-verdict\""), std::string::npos);
  EXPECT_NE(html.find("<code>a/&lt;script&gt;.txt</code>"), std::string::npos);
  EXPECT_NE(html.find("(the directory itself)"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_FALSE(has_event_handler(html));
  v.summary.repairs_successful = 2;
  EXPECT_NE(render_deep_check(v).find("class=\"ok\" id=\"deep-check-verdict\""), std::string::npos);
}

TEST(WebUi, TheInfoPageOffersCheckButtonsForItsOwnCap) {
  InfoView v;
  v.kind = "directory";
  v.check_path = "/uri/lafs1:dir:\"x";
  v.can_repair = false;
  v.repair_note = "needs <the> write cap";
  v.can_deep_check = true;
  const std::string html = render_info(v);
  EXPECT_NE(html.find("data-check=\"/uri/lafs1:dir:&quot;x\""), std::string::npos) << html;
  EXPECT_NE(html.find("id=\"check-button\""), std::string::npos);
  EXPECT_NE(html.find("id=\"verify-button\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"repair-button\""), std::string::npos);
  EXPECT_NE(html.find("id=\"deep-check-button\""), std::string::npos);
  EXPECT_NE(html.find("id=\"repair-note\">needs &lt;the&gt; write cap"), std::string::npos);
  EXPECT_NE(html.find("id=\"check-result\""), std::string::npos);
  EXPECT_FALSE(has_event_handler(html));
  v.check_path.clear();  // no cap to check: no card
  EXPECT_EQ(render_info(v).find("id=\"check\""), std::string::npos);
}

TEST(WebUi, TheScriptSendsTheGuardHeaderAndBuildsNoMarkup) {
  const std::string js(script());
  EXPECT_NE(js.find(std::string(kCsrfHeader)), std::string::npos);
  EXPECT_EQ(js.find("innerHTML"), std::string::npos);
  EXPECT_EQ(js.find("document.write"), std::string::npos);
  EXPECT_EQ(js.find("eval("), std::string::npos);
}

}  // namespace
}  // namespace lafs::node::ui
