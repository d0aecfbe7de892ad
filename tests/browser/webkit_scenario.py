"""Runs engine_scenario.js in WebKitGTK's MiniBrowser through WebKitWebDriver (Selenium, W3C
WebDriver) and prints its report as JSON. Needs a display: run it under ``xvfb-run -a``. The
click on the map is WebDriver's own input (trusted: the user gesture that lets audio run).

    python webkit_scenario.py URL OPTS_JSON
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.webkitgtk.options import Options
from selenium.webdriver.webkitgtk.service import Service

MINIBROWSER = os.environ.get("INTELLIMIXER_WEBKIT", "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")


def main() -> int:
    url, opts = sys.argv[1], sys.argv[2]
    scenario = (Path(__file__).with_name("engine_scenario.js")).read_text(encoding="utf-8")
    o = Options()
    o.binary_location = MINIBROWSER
    o.add_argument("--automation")
    driver = webdriver.WebKitGTK(options=o, service=Service(executable_path="/usr/bin/WebKitWebDriver"))
    try:
        driver.set_script_timeout(300)
        driver.set_window_size(1280, 900)
        driver.get(url)

        def stage(name: str) -> dict:
            return driver.execute_async_script(
                f"const done = arguments[arguments.length - 1]; ({scenario})({{...{opts}, stage: {json.dumps(name)}}})"
                ".then(done, (e) => done({failed: String(e)}));")

        report = stage("setup")
        if report.get("spot"):
            actions = ActionChains(driver)
            actions.w3c_actions.pointer_action.move_to_location(report["spot"]["x"], report["spot"]["y"]).click()
            actions.perform()
            report = stage("click")
        report["version"] = f"{driver.capabilities.get('browserName')} {driver.capabilities.get('browserVersion')}"
        print(json.dumps(report))
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
