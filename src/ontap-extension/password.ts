import { randomBytes } from "node:crypto";

/**
 * New SVM user passwords from the OS CSPRNG that satisfy ONTAP's password rules as configured on the user's
 * role (`security login role config show -vserver <svm> -role vsadmin`): minimum length, minimum numbers of
 * special, upper-case, lower-case characters and digits (the DISA STIG for ONTAP requires at least one special
 * character), and never containing the user name. The rules come from the component configuration
 * (`passwordRules`); ONTAP's own defaults are laxer, so the defaults here satisfy both.
 */

export interface PasswordRules {
  /** Length of generated passwords. */
  length: number;
  /** `-passwd-minlength`. */
  minLength: number;
  /** `-passwd-min-special-chars`. */
  minSpecialCharacters: number;
  /** `-passwd-min-uppercase-chars`. */
  minUppercase: number;
  /** `-passwd-min-lowercase-chars`. */
  minLowercase: number;
  /** `-passwd-min-digits`. */
  minDigits: number;
}

export const DEFAULT_PASSWORD_RULES: PasswordRules = Object.freeze({
  length: 24,
  minLength: 8,
  minSpecialCharacters: 1,
  minUppercase: 1,
  minLowercase: 1,
  minDigits: 1,
});

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
/**
 * Specials that survive every layer a password travels through (JSON, basic auth, Trident's backend Secret,
 * shells): none of `{*^@£` (which break REST logins for some ONTAP clients, ansible-collections/netapp.ontap#281),
 * no quotes, backslash, `$`, `&`, `%`, `:` or whitespace.
 */
export const SPECIALS = "-_.+=!#";
const ALPHABET = UPPER + LOWER + DIGITS + SPECIALS;
// Bytes at or above this value are rejected so every letter is equally likely (256 % 69 != 0).
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);

/** log2(69) * 24 = 146.6 bits for the default length. */
export const PASSWORD_LENGTH = DEFAULT_PASSWORD_RULES.length;
export const bitsOfEntropy = (length: number) => length * Math.log2(ALPHABET.length);

/** The rule a password breaks, in ONTAP's terms, or undefined when it satisfies all of them. */
export function brokenRule(password: string, rules: PasswordRules, username?: string): string | undefined {
  const count = (set: string) => [...password].filter((c) => set.includes(c)).length;
  const specials = [...password].filter((c) => !/[A-Za-z0-9]/.test(c)).length;
  if (password.length < rules.minLength) return `at least ${rules.minLength} characters (passwd-minlength)`;
  if (specials < rules.minSpecialCharacters) return `at least ${rules.minSpecialCharacters} special characters (passwd-min-special-chars)`;
  if (count(UPPER) < rules.minUppercase) return `at least ${rules.minUppercase} upper-case letters (passwd-min-uppercase-chars)`;
  if (count(LOWER) < rules.minLowercase) return `at least ${rules.minLowercase} lower-case letters (passwd-min-lowercase-chars)`;
  if (count(DIGITS) < rules.minDigits) return `at least ${rules.minDigits} digits (passwd-min-digits)`;
  if (username && password.toLowerCase().includes(username.toLowerCase())) return "must not contain the user name";
  return undefined;
}

/**
 * A uniformly random password over the alphabet among those that satisfy the rules (rejection sampling keeps
 * the distribution uniform). The configuration is validated so the minimums fit the length.
 */
export function generatePassword(
  rules: PasswordRules = DEFAULT_PASSWORD_RULES,
  username?: string,
  random: (n: number) => Buffer = randomBytes,
): string {
  const length = Math.max(rules.length, rules.minLength);
  for (let attempt = 0; attempt < 100_000; attempt++) {
    let out = "";
    while (out.length < length) {
      for (const byte of random(length * 2)) {
        if (byte >= UNBIASED_LIMIT) continue;
        out += ALPHABET[byte % ALPHABET.length];
        if (out.length === length) break;
      }
    }
    if (brokenRule(out, rules, username) === undefined) return out;
  }
  throw new Error("no password satisfying the configured passwordRules was found; lower the minimums or raise passwordRules.length");
}
