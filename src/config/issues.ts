import type { z } from "zod";

/** Renders zod issues as `field.path: message` so an operator sees which field to fix. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
        "",
      );
      return `${path || "(root)"}: ${issue.message}`;
    })
    .join("; ");
}
