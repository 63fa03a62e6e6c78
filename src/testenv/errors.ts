/** Every failure of the test world's launcher, with a code a caller (or `testenv up`) can act on. */
export class TestEnvError extends Error {
  constructor(
    message: string,
    readonly code:
      | "BINARIES_MISSING"
      | "CRDS_MISSING"
      | "PROCESS_EXITED"
      | "NOT_READY"
      | "CRD_NOT_ESTABLISHED"
      | "BAD_OPTIONS",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TestEnvError";
  }
}
