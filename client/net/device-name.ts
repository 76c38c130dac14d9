/**
 * How this phone introduces itself to a host (the `name` and `platform` of the hello): what the
 * person at the computer sees when approving, and later in `npm start -- devices`.
 * @module
 */

export interface DeviceIdentity {
  /** "Chrome on Android", "Safari on iPhone": enough to tell one's own devices apart. */
  name: string;
  /** The operating system alone. */
  platform: string;
}

const PLATFORMS: Array<[RegExp, string]> = [
  [/iPhone/, 'iPhone'],
  [/iPad/, 'iPad'],
  [/Android/, 'Android'],
  [/CrOS/, 'ChromeOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Windows/, 'Windows'],
  [/Linux/, 'Linux'],
];

// Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS: Array<[RegExp, string]> = [
  [/EdgA?\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/CriOS\/|Chrome\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];

export function deviceIdentity(userAgent: string, standalone = false): DeviceIdentity {
  const platform = PLATFORMS.find(([re]) => re.test(userAgent))?.[1] ?? 'Unknown system';
  const browser = BROWSERS.find(([re]) => re.test(userAgent))?.[1] ?? 'Browser';
  // An installed app is one place of its own (on iOS even with storage apart from Safari's).
  const name = `${standalone ? 'Relay app' : browser} on ${platform}`;
  return { name: name.slice(0, 100), platform: platform.slice(0, 100) };
}

/** This browser's identity; "installed" when running as a Home Screen app. */
export function currentDeviceIdentity(win: Window = window): DeviceIdentity {
  const standalone = win.matchMedia?.('(display-mode: standalone)').matches || (win.navigator as { standalone?: boolean }).standalone === true;
  return deviceIdentity(win.navigator.userAgent, standalone);
}
