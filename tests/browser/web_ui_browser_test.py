#!/usr/bin/python3
"""The web UI in a real browser: headless Chromium (Debian's chromium and chromium-driver),
driven over WebDriver by Debian's python3-selenium, against a `lafs grid` started here.

  1. welcome page -> storage servers listed -> create a directory -> mkdir -> upload through the
     form -> listed -> download -> same bytes -> info page (Verify, Check: healthy) -> rename ->
     delete;
  2. an uploaded HTML file with a script cannot call the gateway's API (the file is served
     sandboxed), while the same script on the gateway's own page could (the control);
  3. a page of another origin cannot change anything (the CSRF guard), and requests with a
     foreign Host or without the guard header are refused.

Usage: web_ui_browser_test.py PATH_TO_lafs [--screenshots DIR]
Screenshots of the main pages go to DIR (docs/images/ when refreshing the README's pictures;
a temporary directory otherwise). Exits non-zero on the first failed check, saying what failed.
"""

import argparse
import hashlib
import http.client
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:  # a clear error, never a skip: scripts/install-deps.sh installs it
    sys.exit(f"FAILED: python3-selenium is missing ({e}); run scripts/install-deps.sh")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
GUARD = {"X-Lafs-Request": "1"}
STEP_TIMEOUT_S = 30


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)
    print(f"ok: {message}", flush=True)


def wait_until(what, predicate, timeout=STEP_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as e:  # the page may be reloading
            last = e
        time.sleep(0.1)
    raise Failed(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


class Grid:
    """`lafs grid DIR --servers 5` as a child process; stopped with SIGINT."""

    def __init__(self, lafs, root):
        self.dir = os.path.join(root, "grid")
        self.log = open(os.path.join(root, "grid.out"), "w")
        self.proc = subprocess.Popen(
            [lafs, "grid", self.dir, "--servers", "5", "--web-listen", "127.0.0.1:0"],
            stdout=self.log, stderr=subprocess.STDOUT)
        url_file = os.path.join(self.dir, "client", "node.url")
        wait_until("the grid's gateway (node.url)",
                   lambda: os.path.exists(url_file) and os.path.getsize(url_file) > 0, 120)
        with open(url_file) as f:
            self.url = f.readline().strip()
        if not self.url.endswith("/"):
            self.url += "/"
        parsed = urllib.parse.urlsplit(self.url)
        self.host, self.port = parsed.hostname, parsed.port
        wait_until("5 storage servers", lambda: len(self.status()["servers"]) == 5, 60)

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=STEP_TIMEOUT_S)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def status(self):
        return json.loads(self.request("GET", "/?t=json")[2])

    def children(self, dircap):
        status, _, body = self.request("GET", f"/uri/{dircap}?t=json")
        if status != 200:
            raise Failed(f"listing the directory: HTTP {status} {body!r}")
        return json.loads(body)[1]["children"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_browser(root, downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-quic", "--window-size=1280,860",
                "--user-data-dir=" + tempfile.mkdtemp(dir=root, prefix="chromium-")]:
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": downloads,
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    service = Service(CHROMEDRIVER, log_path=os.path.join(root, "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(STEP_TIMEOUT_S)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": downloads})
    return driver


def rows(driver):
    return {r.get_attribute("data-name"): r
            for r in driver.find_elements(By.CSS_SELECTOR, "#entries tr.entry")}


def screenshot(driver, directory, name):
    path = os.path.join(directory, name)
    driver.save_screenshot(path)
    check(os.path.getsize(path) > 10_000, f"screenshot {name} written")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lafs")
    ap.add_argument("--screenshots")
    args = ap.parse_args()
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            sys.exit(f"FAILED: {tool} is missing; run scripts/install-deps.sh")

    root = tempfile.mkdtemp(prefix="lafs-browser-test.")
    shots = args.screenshots or os.path.join(root, "screenshots")
    os.makedirs(shots, exist_ok=True)
    downloads = os.path.join(root, "downloads")
    os.makedirs(downloads)
    grid = driver = attacker = None
    try:
        grid = Grid(args.lafs, root)
        driver = start_browser(root, downloads)
        wait = WebDriverWait(driver, STEP_TIMEOUT_S)

        # ---- 1. welcome -> mkdir -> upload -> listed -> download -> info -> rename -> delete ----
        driver.get(grid.url)
        check("Node" in driver.title, f"the welcome page opens ({driver.title!r})")
        servers = driver.find_elements(By.CSS_SELECTOR, "#servers tr.server")
        check(len(servers) == 5, f"the welcome page lists the 5 storage servers ({len(servers)})")
        names = sorted(s.find_element(By.CSS_SELECTOR, "td.nick").text for s in servers)
        check(names == [f"storage-{i}" for i in range(5)], f"by nickname: {names}")
        check(driver.find_element(By.ID, "introducer-status").text == "connected",
              "the introducer is shown connected")

        driver.find_element(By.ID, "create-directory").click()
        wait.until(lambda d: "/uri/lafs1:dir:" in d.current_url)
        dir_url = driver.current_url
        dircap = urllib.parse.unquote(dir_url.split("/uri/")[1].rstrip("/"))
        check(dircap.startswith("lafs1:dir:"), "Create a directory opens the new directory")
        check(driver.find_element(By.ID, "mode").text == "writable", "it is writable")

        driver.find_element(By.ID, "mkdir-name").send_keys("photos")
        driver.find_element(By.ID, "mkdir-button").click()
        wait_until("photos to be listed", lambda: "photos" in rows(driver))
        check(grid.children(dircap)["photos"][0] == "dirnode", "mkdir made a directory")

        original = os.urandom(700_000) + b"end of the report"
        local = os.path.join(root, "report.bin")
        with open(local, "wb") as f:
            f.write(original)
        with open(os.path.join(root, "notes.txt"), "w") as f:
            f.write("Things to remember:\n- the read cap is enough to read\n")
        for path in (local, os.path.join(root, "notes.txt")):
            driver.find_element(By.ID, "upload-file").send_keys(path)
            driver.find_element(By.ID, "upload-button").click()
            name = os.path.basename(path)
            wait_until(f"{name} to be listed after the upload", lambda: name in rows(driver))
        row = rows(driver)["report.bin"]
        size_cell = row.find_elements(By.CSS_SELECTOR, "td.num")[0]
        check(size_cell.get_attribute("title") == f"{len(original)} bytes",
              f"report.bin is listed with its size ({size_cell.text})")
        check(grid.children(dircap)["report.bin"][1]["size"] == len(original),
              "the gateway agrees about the size")
        screenshot(driver, shots, "directory.png")

        row.find_element(By.CSS_SELECTOR, "a.download").click()
        target = os.path.join(downloads, "report.bin")
        wait_until("the download to finish",
                   lambda: os.path.exists(target) and os.path.getsize(target) == len(original)
                   and not any(n.endswith(".crdownload") for n in os.listdir(downloads)))
        with open(target, "rb") as f:
            got = f.read()
        check(hashlib.sha256(got).digest() == hashlib.sha256(original).digest(),
              "the downloaded file has the uploaded bytes")

        # Back on the welcome page, the servers that took shares show when they last answered.
        driver.get(grid.url)
        contacts = [r.find_elements(By.TAG_NAME, "td")[-1].text
                    for r in driver.find_elements(By.CSS_SELECTOR, "#servers tr.server")]
        check(sum(c.endswith(" s ago") or c == "just now" for c in contacts) >= 2,
              f"the welcome page shows the last contact with the servers: {contacts}")
        screenshot(driver, shots, "welcome.png")
        driver.get(dir_url)

        rows(driver)["report.bin"].find_element(By.CSS_SELECTOR, "a.info").click()
        wait.until(lambda d: d.find_elements(By.ID, "read-cap"))
        readcap = driver.find_element(By.ID, "read-cap").text
        check(readcap.startswith("lafs1:chk:"), "the info page shows the read cap")
        check(driver.find_element(By.ID, "info-size").text.endswith(f"({len(original)} bytes)"),
              "and the size")
        check(not driver.find_elements(By.ID, "write-cap"),
              "an immutable file has no write cap to show")
        # Check, then Verify: the page's script POSTs t=check and shows the answer.
        for button, label in (("verify-button", "Verify"), ("check-button", "Check")):
            driver.find_element(By.ID, button).click()
            result = wait_until(
                f"the result of {label}",
                lambda: (lambda t: t if t.lower().startswith("healthy") else None)(
                    driver.find_element(By.ID, "check-result").text))
            check("5 distinct of 5" in result and "5 of 5 answered" in result,
                  f"{label} shows the file healthy, every share there: {result!r}")
        screenshot(driver, shots, "info.png")
        driver.get(dir_url)

        Select(driver.find_element(By.ID, "rename-from")).select_by_value("photos")
        driver.find_element(By.ID, "rename-to").send_keys("pictures")
        driver.find_element(By.ID, "rename-button").click()
        wait_until("the rename", lambda: "pictures" in rows(driver) and "photos" not in rows(driver))
        check(set(grid.children(dircap)) == {"pictures", "report.bin", "notes.txt"},
              "rename renamed it on the grid")

        rows(driver)["report.bin"].find_element(By.CSS_SELECTOR, "button.delete").click()
        wait.until(lambda d: d.switch_to.alert)
        driver.switch_to.alert.accept()
        wait_until("report.bin to go", lambda: "report.bin" not in rows(driver))
        check("report.bin" not in grid.children(dircap), "delete removed it from the directory")

        # The read-only view of the same directory: entries, no forms.
        _, _, body = grid.request("GET", f"/uri/{dircap}?t=json")
        rocap = json.loads(body)[1]["ro_uri"]
        driver.get(grid.url + "uri/" + rocap + "/")
        check(driver.find_element(By.ID, "mode").text == "read-only", "a read cap gives a read-only page")
        check(not driver.find_elements(By.ID, "upload-form") and
              not driver.find_elements(By.CSS_SELECTOR, "button.delete"),
              "with no upload form and no delete buttons")
        check(set(rows(driver)) == {"pictures", "notes.txt"}, "listing the same entries")

        # ---- 2. an uploaded HTML file's script cannot call the gateway's API ----
        payload = f"""<!DOCTYPE html><html><head><title>innocent page</title></head><body>
<p>Nothing to see.</p>
<script>
document.title = "script ran";
const dir = "/uri/{dircap}";
fetch(dir + "?t=mkdir&name=pwned-by-fetch",
      {{method: "POST", headers: {{"X-Lafs-Request": "1"}}}}).catch(() => {{}});
const x = new XMLHttpRequest();
x.open("DELETE", dir + "/notes.txt"); x.setRequestHeader("X-Lafs-Request", "1"); x.send();
</script></body></html>"""
        evil = os.path.join(root, "evil.html")
        with open(evil, "w") as f:
            f.write(payload)
        driver.get(dir_url)
        driver.find_element(By.ID, "upload-file").send_keys(evil)
        driver.find_element(By.ID, "upload-button").click()
        wait_until("evil.html to be listed", lambda: "evil.html" in rows(driver))
        link = rows(driver)["evil.html"].find_element(By.CSS_SELECTOR, "td.name a")
        href = link.get_attribute("href")
        check(dircap not in href, "a file is linked by its own cap, not under the directory's")
        status, headers, _ = grid.request("GET", urllib.parse.urlsplit(href).path + "?" +
                                          urllib.parse.urlsplit(href).query)
        check(status == 200 and headers.get("Content-Type", "").startswith("text/html") and
              headers.get("Content-Security-Policy") == "sandbox",
              "the HTML file is served as HTML, sandboxed")
        link.click()
        wait_until("the uploaded page to load", lambda: "Nothing to see" in driver.page_source)
        time.sleep(3)  # time for the script, had it run, to finish its calls
        check(driver.title != "script ran", f"its script did not run ({driver.title!r})")
        children = grid.children(dircap)
        check("pwned-by-fetch" not in children and "notes.txt" in children,
              "the page's script changed nothing on the gateway")
        # The control: the same calls from the gateway's own page do work, so what stopped the
        # uploaded page was its sandbox, not a broken payload.
        driver.get(dir_url)
        result = driver.execute_async_script("""
const done = arguments[arguments.length - 1];
fetch(document.body.dataset.dir + "?t=mkdir&name=control-by-fetch",
      {method: "POST", headers: {"X-Lafs-Request": "1"}})
  .then(r => done(r.status), e => done(String(e)));""")
        check(result == 200 and "control-by-fetch" in grid.children(dircap),
              f"the same call from the gateway's own page works (control: {result})")

        # ---- 3. another origin's page cannot change anything ----
        attacker_page = f"""<!DOCTYPE html><html><head><title>attacker</title></head><body>
<script>
const gw = "{grid.url}uri/{dircap}";
const results = [];
const a = fetch(gw + "?t=mkdir&name=pwned-cors", {{method: "POST", headers: {{"X-Lafs-Request": "1"}}}})
  .then(r => results.push("cors:" + r.status), e => results.push("cors:blocked"));
const b = fetch(gw + "?t=mkdir&name=pwned-simple", {{method: "POST", mode: "no-cors"}})
  .then(r => results.push("simple:sent"), e => results.push("simple:error"));
Promise.all([a, b]).then(() => {{ document.title = "attack done " + results.sort().join(" "); }});
</script></body></html>""".encode()

        class Attacker(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(attacker_page)))
                self.end_headers()
                self.wfile.write(attacker_page)

            def log_message(self, *a):
                pass

        attacker = http.server.HTTPServer(("127.0.0.1", 0), Attacker)
        threading.Thread(target=attacker.serve_forever, daemon=True).start()
        driver.get(f"http://127.0.0.1:{attacker.server_address[1]}/")
        title = wait_until("the attacker's script to finish",
                           lambda: driver.title if driver.title.startswith("attack done") else None)
        check("cors:blocked" in title, f"a scripted cross-origin call with the guard is blocked ({title})")
        children = grid.children(dircap)
        check("pwned-cors" not in children and "pwned-simple" not in children,
              "a page of another origin changed nothing")

        status, _, body = grid.request("POST", "/uri?t=mkdir", headers={
            "Host": f"rebound.example:{grid.port}", **GUARD})
        check(status == 403 and b"foreign Host" in body, f"a foreign Host header is refused ({status})")
        status, _, body = grid.request("POST", "/uri?t=mkdir")
        check(status == 403 and b"X-Lafs-Request" in body,
              f"a change without the CSRF guard header is refused ({status})")
        status, _, body = grid.request("POST", "/uri?t=mkdir", headers=GUARD)
        check(status == 200 and body.startswith(b"lafs1:dir:"), "and allowed with it")

        # Caps never reach the logs, browser traffic included.
        for name in os.listdir(grid.dir):
            log = os.path.join(grid.dir, name, "logs", "node.log")
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    check("lafs1:" not in f.read(), f"no cap in {name}'s log")
        print("PASSED: web UI in headless Chromium")
        return 0
    except (Failed, TimeoutException) as e:
        print(f"FAILED: {e}")
        if driver is not None:
            try:
                driver.save_screenshot(os.path.join(root, "failure.png"))
                print(f"page at failure: {driver.current_url}\n{driver.page_source[:3000]}")
            except Exception:
                pass
        if grid is not None:
            for name in sorted(os.listdir(grid.dir)):
                log = os.path.join(grid.dir, name, "logs", "node.log")
                if os.path.exists(log):
                    with open(log, errors="replace") as f:
                        print(f"== {name}\n" + "".join(f.readlines()[-15:]))
        return 1
    finally:
        if driver is not None:
            driver.quit()
        if attacker is not None:
            attacker.shutdown()
        if grid is not None:
            grid.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
