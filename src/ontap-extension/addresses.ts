import { isIPv4, isIPv6 } from "node:net";
import { withoutControlCharacters } from "../extension/status.js";

/**
 * What a LIF address in providerConfig may be: one IPv4 unicast address a shoot can reach. IPv6 is refused,
 * not half supported: the LIF netmask (/24, or /32 with BGP, as the Go extension sets it), the simulator
 * and Trident's backend rendering are IPv4 only, and an IPv6 LIF with a /24 would be silently wrong.
 */
export type AddressCheck = { ok: true; canonical: string } | { ok: false; problem: string };

/** Longest part of a user's value quoted back in a message; the rest is cut (status fields have limits). */
export const MAX_QUOTED = 64;

export function quoteValue(value: string): string {
  const printable = withoutControlCharacters(value, "?");
  return printable.length > MAX_QUOTED ? `"${printable.slice(0, MAX_QUOTED)}..." (${value.length} characters)` : `"${printable}"`;
}

export function checkLifAddress(value: string): AddressCheck {
  if (isIPv6(value)) {
    return { ok: false, problem: `${quoteValue(value)} is an IPv6 address; ONTAP LIFs for metal-stack shoots are IPv4 only: use the IPv4 address` };
  }
  if (!isIPv4(value)) return { ok: false, problem: `${quoteValue(value)} is not a valid IP address (an IPv4 address is expected)` };
  const [a = 0, b = 0] = value.split(".").map(Number);
  const kind =
    a === 0 ? "an unspecified (0.0.0.0/8) address"
    : a === 127 ? "a loopback address"
    : a === 169 && b === 254 ? "a link-local address"
    : a >= 224 && a <= 239 ? "a multicast address"
    : a >= 240 ? "a reserved or broadcast address"
    : undefined;
  if (kind) return { ok: false, problem: `${quoteValue(value)} is ${kind}; a LIF needs a unicast address the shoot's nodes can reach` };
  // isIPv4 accepts only canonical dotted decimal, so the canonical form is the numeric one re-rendered.
  return { ok: true, canonical: value.split(".").map((o) => String(Number(o))).join(".") };
}
