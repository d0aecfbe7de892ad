#!/usr/bin/env node
// Runs tests/browser/engine_scenario.js in Firefox ESR (puppeteer-core over WebDriver BiDi; no
// geckodriver needed) and prints its report as JSON: node firefox_scenario.mjs URL OPTS_JSON
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import puppeteer from "puppeteer-core";

const [url, opts] = process.argv.slice(2);
const scenario = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "browser", "engine_scenario.js"), "utf8");
const browser = await puppeteer.launch({
  browser: "firefox", executablePath: process.env.INTELLIMIXER_FIREFOX || "/usr/bin/firefox-esr", headless: true,
  extraPrefsFirefox: { "media.autoplay.default": 0, "media.autoplay.blocking_policy": 0 },
});
const errors = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.setDefaultTimeout(180000);
  await page.goto(url);
  const report = await page.evaluate(`(${scenario})(${opts}).catch((e) => ({ failed: String(e) }))`);
  report.version = await browser.version();
  report.errors = errors;
  console.log(JSON.stringify(report));
} finally {
  await browser.close();
}
