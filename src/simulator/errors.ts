/**
 * ONTAP error codes the simulator answers with, each with where it comes from (audited against vendor material;
 * the table in README.md repeats it):
 *  - "vendor doc": NetApp's ONTAP automation docs, "Interpreting an API response", common error codes
 *    (docs.netapp.com/us-en/ontap-automation/rest/interpret_api_response.html; NetAppDocs/ontap-automation
 *    rest/interpret_api_response.adoc): 1 = 409 same identifier exists, 2 = 400 invalid or missing field value,
 *    3 = operation not supported, 4 = object not found, 6 = 403 permission denied, 8 = 409 resource in use;
 *  - "observed": quoted from real clusters' answers in NetApp's own repositories' issues (named per code);
 *  - "reference": /work/shared/reference/ontap-rest.md only, not confirmed from a vendor source here;
 *  - "guess": chosen by the simulator; a client must not rely on it.
 */
export const Codes = {
  /** vendor doc (code 4) and observed 404 "entry doesn't exist" (ansible-collections/netapp.ontap#277). */
  notFound: "4",
  /** vendor doc (code 6, 403) and observed "not authorized for that command" (ansible-collections/netapp.ontap#139). */
  notAuthorized: "6",
  /** vendor doc: code 3 is "operation not supported"; its use for an unknown path (404) or method (405) is a guess. */
  apiNotFound: "3",
  /** guess: 401 bad or missing credentials (no vendor source gives the body of a 401). */
  unauthenticated: "6691623",
  /** reference: unexpected argument in a body or query. */
  unexpectedArgument: "262179",
  /**
   * observed: a `fields` entry the endpoint does not know. Real clusters answer 400
   * `The value "x" is invalid for field "fields" (<field,...>)`, target `fields` (quoted in NetApp/harvest#3639,
   * NetApp/harvest#2237, ansible-collections/netapp.ontap#189).
   */
  invalidFieldsEntry: "262197",
  /** vendor doc (code 2, 400): a field has an invalid value. Was the made-up 262185. */
  invalidValue: "2",
  /** vendor doc (code 2, 400): a required field is missing. Was the made-up 262186. */
  missingField: "2",
  /** guess: the body is not valid JSON or not an object. */
  invalidJson: "262187",
  /** reference: SVM name in use by another SVM, IPspace or cluster. */
  svmNameInUse: "13434908",
  /** reference: internal error, wait and retry. */
  svmInternalError: "13434889",
  /** reference: incorrect fields (used for invalid SVM names and unknown aggregates). */
  svmIncorrectFields: "13434884",
  /** reference: SVM is being created, wait and retry. */
  svmBeingCreated: "13434916",
  /** vendor doc (code 8, 409 "the resource is in use"): SVM delete refused while non-root volumes exist. Was the made-up 13434920. */
  svmHasVolumes: "8",
  /** guess: SVM delete refused while the SVM is already being deleted (409). */
  svmBeingDeleted: "13434921",
  /** reference: duplicate IP address. */
  duplicateIp: "1376963",
  /** reference: an interface with the same name already exists in the SVM. */
  duplicateInterfaceName: "1966140",
  /** reference: the operation might have left the configuration inconsistent (used by applyThenFail). */
  mightBeInconsistent: "1967102",
  /** guess: a VIP interface needs BGP peer groups on the cluster. */
  vipWithoutBgp: "1967150",
  /** reference: role not found. */
  roleNotFound: "1261215",
  /** reference: account name reserved. */
  reservedAccountName: "5636121",
  /** vendor doc (code 1, 409 "an object with the same identifier already exists"): duplicate account. Was the made-up 5636122. */
  duplicateAccount: "1",
  /** vendor doc (code 1, 409): a volume, snapshot, subsystem, host or map with the same identifier exists. */
  alreadyExists: "1",
  /**
   * vendor doc (code 8, 409 "the resource is in use"): a volume with FlexClones, a snapshot a clone depends on, a
   * mapped namespace, a subsystem with mapped namespaces. The codes a real cluster sends for each are not known.
   */
  inUse: "8",
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
