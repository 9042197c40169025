/** Debian's Chromium (`.ci/run` installs it; Playwright's own browser download is unreachable here) and its flags. */
export const CHROMIUM = "/usr/bin/chromium";

export const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
