import puppeteer from "puppeteer-core";
const url = process.argv[2];
const browser = await puppeteer.launch({ browser: "firefox", executablePath: "/usr/bin/firefox-esr", headless: true,
  args: [], extraPrefsFirefox: { "dom.webmidi.enabled": false } });
const page = await browser.newPage();
page.on("console", (m) => console.log("CONSOLE", m.type(), m.text().slice(0, 300)));
page.on("pageerror", (e) => console.log("PAGEERR", String(e).slice(0, 300)));
const t = Date.now();
await page.goto(url);
console.log("version", await browser.version());
for (let k = 0; k < 60; k++) {
  await new Promise((r) => setTimeout(r, 1000));
  const st = await page.evaluate(() => [document.getElementById("status").dataset.state, document.getElementById("status-message").textContent, document.body.dataset.ready ?? null, globalThis.crossOriginIsolated]);
  console.log((Date.now() - t) / 1000, JSON.stringify(st));
  if (st[2] !== null) break;
}
await browser.close();
