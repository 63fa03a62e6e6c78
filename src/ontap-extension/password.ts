import { randomBytes } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** 24 characters of a 62-letter alphabet: log2(62) * 24 = 142.9 bits. */
export const PASSWORD_LENGTH = 24;
// Bytes at or above this value are rejected so every letter is equally likely (256 % 62 != 0).
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);

/**
 * A new SVM user password from the OS CSPRNG. ONTAP's default rules ask for at least 8 characters with
 * letters and digits; requiring a lower, an upper and a digit keeps it valid under stricter role rules too.
 */
export function generatePassword(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    let out = "";
    while (out.length < PASSWORD_LENGTH) {
      for (const byte of random(PASSWORD_LENGTH * 2)) {
        if (byte >= UNBIASED_LIMIT) continue;
        out += ALPHABET[byte % ALPHABET.length];
        if (out.length === PASSWORD_LENGTH) break;
      }
    }
    if (/[a-z]/.test(out) && /[A-Z]/.test(out) && /[0-9]/.test(out)) return out;
  }
}
