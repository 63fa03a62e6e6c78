import { describe, expect, it } from "vitest";
import { createDeletionWaits } from "../../src/ontap-extension/deletion-waits.js";

/** Who the ManagedResource watch wakes when a ManagedResource is gone. */
describe("deletion waits", () => {
  it("wakes each Extension waiting for that ManagedResource once, and nobody else", () => {
    const waits = createDeletionWaits();
    waits.wait("ns1/ontap", "ns1", "trident-init");
    waits.wait("ns2/ontap", "ns2", "trident-init");
    expect(waits.take("ns1", "trident-cwnp")).toEqual([]);
    expect(waits.take("ns1", "trident-init")).toEqual(["ns1/ontap"]);
    expect(waits.take("ns1", "trident-init")).toEqual([]);
    expect(waits.take("ns2", "trident-init")).toEqual(["ns2/ontap"]);
  });

  it("keeps only an Extension's latest wait, and none once forgotten", () => {
    const waits = createDeletionWaits();
    waits.wait("ns1/ontap", "ns1", "trident-init");
    waits.wait("ns1/ontap", "ns1", "trident-cwnp");
    expect(waits.take("ns1", "trident-init")).toEqual([]);
    expect(waits.take("ns1", "trident-cwnp")).toEqual(["ns1/ontap"]);
    waits.wait("ns1/ontap", "ns1", "trident-crds");
    waits.forget("ns1/ontap");
    expect(waits.take("ns1", "trident-crds")).toEqual([]);
  });
});
