/**
 * ONTAP error codes the simulator answers with. Codes marked "reference" come from
 * /work/shared/reference/ontap-rest.md or from observed ONTAP answers; the others are chosen by the
 * simulator where the reference is silent (documented in README.md) and must not be relied on by a client.
 */
export const Codes = {
  /** reference: 404 "entry doesn't exist". */
  notFound: "4",
  /** observed: 403 "not authorized for that command". */
  notAuthorized: "6",
  /** simulator: 404 for a path that is no API, 405 for a method the path does not support. */
  apiNotFound: "3",
  /** simulator: 401 bad or missing credentials. */
  unauthenticated: "6691623",
  /** reference: unexpected argument in a body or query. */
  unexpectedArgument: "262179",
  /**
   * observed: a `fields` entry the endpoint does not know. Real clusters answer 400
   * `The value "x" is invalid for field "fields" (<field,...>)`, target `fields` (quoted in NetApp/harvest#3639,
   * NetApp/harvest#2237, ansible-collections/netapp.ontap#189).
   */
  invalidFieldsEntry: "262197",
  /** simulator: a value of the wrong type or format. */
  invalidValue: "262185",
  /** simulator: a required field is missing. */
  missingField: "262186",
  /** simulator: the body is not valid JSON or not an object. */
  invalidJson: "262187",
  /** reference: SVM name in use by another SVM, IPspace or cluster. */
  svmNameInUse: "13434908",
  /** reference: internal error, wait and retry. */
  svmInternalError: "13434889",
  /** reference: incorrect fields (used for invalid SVM names and unknown aggregates). */
  svmIncorrectFields: "13434884",
  /** reference: SVM is being created, wait and retry. */
  svmBeingCreated: "13434916",
  /** simulator: SVM delete refused while non-root volumes exist (409). */
  svmHasVolumes: "13434920",
  /** simulator: SVM delete refused while the SVM is already being deleted (409). */
  svmBeingDeleted: "13434921",
  /** reference: duplicate IP address. */
  duplicateIp: "1376963",
  /** reference: an interface with the same name already exists in the SVM. */
  duplicateInterfaceName: "1966140",
  /** reference: the operation might have left the configuration inconsistent (used by applyThenFail). */
  mightBeInconsistent: "1967102",
  /** simulator: a VIP interface needs BGP peer groups on the cluster. */
  vipWithoutBgp: "1967150",
  /** reference: role not found. */
  roleNotFound: "1261215",
  /** reference: account name reserved. */
  reservedAccountName: "5636121",
  /** simulator: an account with this name already exists for this owner (409). */
  duplicateAccount: "5636122",
} as const;

export interface OntapErrorBody {
  message: string;
  code: string;
  target?: string;
}

/** An answer in ONTAP's error envelope. Thrown by handlers; the server turns it into a response. */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
  ) {
    super(message);
    this.name = "SimError";
  }

  toBody(): { error: OntapErrorBody } {
    const error: OntapErrorBody = { message: this.message, code: this.code };
    if (this.target !== undefined) error.target = this.target;
    return { error };
  }
}

export function notFound(target = "uuid"): SimError {
  return new SimError(404, Codes.notFound, "entry doesn't exist", target);
}

export function forbidden(): SimError {
  return new SimError(403, Codes.notAuthorized, "not authorized for that command");
}

export function unexpectedArgument(field: string): SimError {
  return new SimError(400, Codes.unexpectedArgument, `Unexpected argument "${field}".`, field);
}

export function invalidFieldsEntry(field: string): SimError {
  return new SimError(400, Codes.invalidFieldsEntry, `The value "${field}" is invalid for field "fields" (<field,...>)`, "fields");
}

export function invalidValue(field: string, detail: string): SimError {
  return new SimError(400, Codes.invalidValue, `Invalid value for field "${field}": ${detail}.`, field);
}

export function missingField(field: string): SimError {
  return new SimError(400, Codes.missingField, `Missing value for required field "${field}".`, field);
}
