// localStorage that never throws (it does in some private modes and when storage is disabled).
export function readStorage(key: string): string | null {
  try {
    return globalThis.localStorage?.getItem(key) ?? null
  } catch {
    return null
  }
}

export function writeStorage(key: string, value: string): void {
  try {
    globalThis.localStorage?.setItem(key, value)
  } catch {
    // Not persisting a preference is harmless; the choice still applies to this page.
  }
}
