"""A headless Chromium the dashboard's browser test drives: one JSON command per line on stdin, one JSON answer per
line on stdout. Commands: {"open": URL}, {"eval": JS} (the value of the expression), {"wait": JS, "timeout": s}
(until the expression is truthy), {"size": [W, H]}, {"screenshot": PATH}, {"quit": true}. Uses Debian's chromium and chromedriver
through Selenium (installed by scripts/browser.sh); never downloads a browser or a driver."""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def main():
    chromium, chromedriver = sys.argv[1], sys.argv[2]
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--no-first-run", "--disable-extensions"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(60)
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    try:
        for line in sys.stdin:
            command = json.loads(line)
            try:
                if "open" in command:
                    driver.get(command["open"])
                    answer = {"ok": True}
                elif "eval" in command:
                    answer = {"ok": True, "value": driver.execute_script("return (" + command["eval"] + ");")}
                elif "wait" in command:
                    deadline = time.time() + float(command.get("timeout", 10))
                    value = None
                    while time.time() < deadline:
                        value = driver.execute_script("return (" + command["wait"] + ");")
                        if value:
                            break
                        time.sleep(0.1)
                    answer = {"ok": bool(value), "value": value}
                elif "size" in command:
                    driver.set_window_size(int(command["size"][0]), int(command["size"][1]))
                    answer = {"ok": True}
                elif "screenshot" in command:
                    driver.save_screenshot(command["screenshot"])
                    answer = {"ok": True}
                elif "quit" in command:
                    print(json.dumps({"ok": True}), flush=True)
                    break
                else:
                    answer = {"ok": False, "error": "unknown command"}
            except Exception as error:  # the test shows it
                answer = {"ok": False, "error": str(error).splitlines()[0] if str(error) else repr(error)}
            print(json.dumps(answer), flush=True)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
