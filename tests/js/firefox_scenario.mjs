#!/usr/bin/env node
// Runs tests/browser/engine_scenario.js in Firefox ESR (puppeteer-core over WebDriver BiDi; no
// geckodriver needed) and prints its report as JSON: node firefox_scenario.mjs URL OPTS_JSON.
// Firefox's own autoplay rules apply: the click on the map is BiDi's trusted input, the user
// gesture that lets the page's AudioContext run (it needs an audio output: the suite gives it
// PulseAudio's null sink).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import puppeteer from "puppeteer-core";

const [url, opts] = process.argv.slice(2);
const scenario = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "browser", "engine_scenario.js"), "utf8");
const browser = await puppeteer.launch({
  browser: "firefox", executablePath: process.env.INTELLIMIXER_FIREFOX || "/usr/bin/firefox-esr", headless: true,
  defaultViewport: { width: 1280, height: 800 },
});
const stage = (name) => `(${scenario})({ ...${opts}, stage: "${name}" }).catch((e) => ({ failed: String(e) }))`;
const errors = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.setDefaultTimeout(180000);
  await page.goto(url);
  let report = await page.evaluate(stage("setup"));
  if (report.spot) {
    await page.mouse.click(report.spot.x, report.spot.y);
    report = await page.evaluate(stage("click"));
  }
  report.version = await browser.version();
  report.errors = errors;
  console.log(JSON.stringify(report));
} finally {
  await browser.close();
}
