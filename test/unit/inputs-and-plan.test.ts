import { describe, expect, it } from "vitest";
import { withoutControlCharacters } from "../../src/extension/status.js";
import { decodeShootInputs, InputError } from "../../src/ontap-extension/inputs.js";
import { bitsOfEntropy, brokenRule, DEFAULT_PASSWORD_RULES, generatePassword, PASSWORD_LENGTH } from "../../src/ontap-extension/password.js";
import { legacyUsernameFor, planShoot, planTeardown, svmNameFor, usernameFor } from "../../src/ontap-extension/plan.js";

const projectId = "0a1b2c3d-aaaa-bbbb-cccc-1234567890ab";
const cluster = { spec: { shoot: { metadata: { annotations: { "cluster.metal-stack.io/project": projectId } } } } };
const ext = (providerConfig: unknown, namespace = "shoot--proj1--my-shoot") => ({
  metadata: { namespace },
  spec: { providerConfig },
});
const good = { svmIpaddresses: { managementLif: "10.0.0.10", dataLifs: ["10.0.0.11", "10.0.0.12"] } };

describe("shoot inputs", () => {
  it("decodes a valid providerConfig and the project annotation", () => {
    const inputs = decodeShootInputs(ext(good), cluster);
    expect(inputs).toMatchObject({ projectId, gardenerProject: "proj1", shootName: "my-shoot", dataLifs: ["10.0.0.11", "10.0.0.12"] });
  });

  it.each([
    [undefined, /spec\.providerConfig: is required/],
    [{ svmIpaddresses: { managementLif: "10.0.0.300", dataLifs: ["10.0.0.11"] } }, /svmIpaddresses\.managementLif: "10\.0\.0\.300" is not a valid IP/],
    [{ svmIpaddresses: { managementLif: "10.0.0.10", dataLifs: [] } }, /svmIpaddresses\.dataLifs: needs at least one data LIF/],
    [{ svmIpaddresses: { managementLif: "10.0.0.10", dataLifs: ["10.0.0.11", "10.0.0.11"] } }, /dataLifs\[1\]: "10\.0\.0\.11" duplicates dataLifs\[0\]/],
    [{ svmIpaddresses: { managementLif: "10.0.0.10", dataLifs: ["10.0.0.10"] } }, /dataLifs\[0\]: "10\.0\.0\.10" is also the managementLif/],
    [{ svmIpaddresses: { dataLifs: ["10.0.0.11"] } }, /svmIpaddresses\.managementLif: is required/],
    [{ svmIpaddresses: { managementLif: "10.0.0.10", dataLifs: ["x"] }, extra: 1 }, /spec\.providerConfig: .*extra/],
  ])("rejects bad providerConfig %j with a field-named error", (providerConfig, message) => {
    expect(() => decodeShootInputs(ext(providerConfig), cluster)).toThrow(InputError);
    expect(() => decodeShootInputs(ext(providerConfig), cluster)).toThrow(message);
  });

  it.each([
    ["fd00::10", /managementLif: "fd00::10" is an IPv6 address; .*IPv4 only/],
    ["127.0.0.1", /managementLif: "127\.0\.0\.1" is a loopback address/],
    ["224.0.0.5", /managementLif: "224\.0\.0\.5" is a multicast address/],
    ["0.0.0.0", /managementLif: "0\.0\.0\.0" is an unspecified/],
    ["255.255.255.255", /managementLif: "255\.255\.255\.255" is a reserved or broadcast address/],
    ["169.254.1.1", /managementLif: "169\.254\.1\.1" is a link-local address/],
  ])("refuses managementLif %s with a message saying why", (managementLif, message) => {
    const cfg = { svmIpaddresses: { managementLif, dataLifs: ["10.0.0.11"] } };
    expect(() => decodeShootInputs(ext(cfg), cluster)).toThrow(message);
  });

  it("refuses an IPv4-mapped IPv6 spelling of a data LIF instead of comparing strings", () => {
    const cfg = { svmIpaddresses: { managementLif: "10.0.0.10", dataLifs: ["10.0.0.11", "::ffff:10.0.0.11"] } };
    expect(() => decodeShootInputs(ext(cfg), cluster)).toThrow(/dataLifs\[1\]: "::ffff:10\.0\.0\.11" is an IPv6 address/);
  });

  it("bounds what it quotes back: a huge or control-character value cannot blow up status", () => {
    const huge = `10.0.0.1${"\u0007x".repeat(50_000)}`;
    const many = Array.from({ length: 2000 }, (_, i) => `bad-${i}`);
    for (const cfg of [
      { svmIpaddresses: { managementLif: huge, dataLifs: ["10.0.0.11"] } },
      { svmIpaddresses: { managementLif: "10.0.0.10", dataLifs: many } },
      { svmIpaddresses: { managementLif: "10.0.0.10", dataLifs: ["10.0.0.11"] }, [`k${"y".repeat(5000)}`]: 1 },
    ]) {
      let message = "";
      try {
        decodeShootInputs(ext(cfg), cluster);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^spec\.providerConfig: /);
      expect(message.length).toBeLessThanOrEqual(1024);
      expect(message).toBe(withoutControlCharacters(message, "#"));
    }
  });

  it("rejects a missing project annotation and a non-shoot namespace", () => {
    expect(() => decodeShootInputs(ext(good), { spec: { shoot: { metadata: {} } } })).toThrow(/cluster\.metal-stack\.io\/project.*is missing/);
    expect(() => decodeShootInputs(ext(good, "garden"), cluster)).toThrow(/metadata\.namespace/);
  });

  it("accepts only what metal-stack issues as a project id (a lower-case UUID), naming the field otherwise", () => {
    const withId = (id: string) => ({ spec: { shoot: { metadata: { annotations: { "cluster.metal-stack.io/project": id } } } } });
    // `ab-cd` and `abcd` would name one SVM (pabcd) for two projects; upper case makes invalid Kubernetes names.
    for (const id of ["ab-cd", "abcd", "0A1B2C3D-AAAA-4BBB-8CCC-1234567890AB", "0a1b2c3daaaa4bbb8ccc1234567890ab", "0a1b2c3d-aaaa-4bbb-8ccc-1234567890ab-x"]) {
      expect(() => decodeShootInputs(ext(good), withId(id)), id).toThrow(/spec\.shoot\.metadata\.annotations\["cluster\.metal-stack\.io\/project"\].*lower-case UUID/);
    }
    expect(decodeShootInputs(ext(good), withId(projectId)).projectId).toBe(projectId);
  });
});

describe("plan", () => {
  it("derives the Go extension's names", () => {
    expect(svmNameFor(projectId)).toBe("p0a1b2c3daaaabbbbcccc1234567890ab");
    // The Go extension's user name (the shoot name cut to 25) is the legacy one; each shoot's own is unique.
    expect(legacyUsernameFor("a-very-long-shoot-name-that-goes-on")).toBe("a-very-long-shoot-name-th");
    expect(usernameFor("shoot--proj1--my-shoot")).toBe("proj1--my-shoot");
    const plan = planShoot(decodeShootInputs(ext(good), cluster));
    expect(plan.lifs.map((l) => [l.name, l.ipAddress, l.servicePolicy])).toEqual([
      ["datalif+0", "10.0.0.11", "default-data-nvme-tcp"],
      ["datalif+1", "10.0.0.12", "default-data-nvme-tcp"],
      ["managementlif", "10.0.0.10", "default-management"],
    ]);
    expect(plan.secret).toEqual({ namespace: "shoot--proj1--my-shoot", name: "ontap-svm-credentials" });
    expect(plan.legacySecret).toEqual({ namespace: "kube-system", name: `${plan.svmName}-proj1--my-shoot-credentials` });
    expect(plan.shootSecretName).toBe(`${plan.svmName}-proj1--my-shoot-credentials`);
    // This project's earlier data LIF names, still recognised as the same LIFs.
    expect(plan.lifs.map((l) => l.formerName)).toEqual(["datalif0", "datalif1", undefined]);
  });
});

describe("passwords", () => {
  it("are long, mixed, with a special character, and different every time", () => {
    const seen = new Set(Array.from({ length: 200 }, () => generatePassword()));
    expect(seen.size).toBe(200);
    for (const p of seen) {
      expect(p).toHaveLength(PASSWORD_LENGTH);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[0-9]/);
      expect(p).toMatch(/[-_.+=!#]/);
      expect(brokenRule(p, DEFAULT_PASSWORD_RULES)).toBeUndefined();
    }
    expect(bitsOfEntropy(PASSWORD_LENGTH)).toBeGreaterThan(140);
  });

  it("follow the configured rules and never contain the user name", () => {
    const rules = { length: 16, minLength: 12, minSpecialCharacters: 3, minUppercase: 2, minLowercase: 2, minDigits: 2 };
    for (let i = 0; i < 100; i++) {
      const p = generatePassword(rules, "ab");
      expect(p).toHaveLength(16);
      expect(brokenRule(p, rules, "ab")).toBeUndefined();
      expect(p.toLowerCase()).not.toContain("ab");
    }
    expect(brokenRule("Short1!", rules)).toMatch(/passwd-minlength/);
    expect(brokenRule("NoSpecialsHere12", rules)).toMatch(/passwd-min-special-chars/);
    expect(brokenRule("has-shoot1-In!!X2", { ...rules, minUppercase: 1 }, "SHOOT1")).toBe("must not contain the user name");
  });
});

describe("teardown plan", () => {
  const namespace = "shoot--proj1--my-shoot";
  const recorded = { svmName: "precorded", cluster: "c1", user: "x" };
  it("goes by the SVM the status recorded, even when the inputs went bad or changed since", () => {
    const broken = { metadata: { namespace }, spec: { providerConfig: { svmIpaddresses: {} } }, status: { providerStatus: recorded } };
    expect(planTeardown(broken, undefined)).toEqual({
      svmName: "precorded",
      username: "proj1--my-shoot",
      owner: namespace,
      secret: { namespace, name: "ontap-svm-credentials" },
      legacySecret: { namespace: "kube-system", name: "precorded-proj1--my-shoot-credentials" },
      recordedCluster: "c1",
    });
    // A project annotation changed after creation: the SVM the user was made on is the one torn down.
    expect(planTeardown({ ...ext(good), status: { providerStatus: recorded } }, cluster)?.svmName).toBe("precorded");
  });
  it("falls back to the inputs when nothing was recorded, and to nothing when neither says which SVM", () => {
    expect(planTeardown(ext(good), cluster)?.svmName).toBe(svmNameFor(projectId));
    expect(planTeardown({ metadata: { namespace }, spec: {} }, cluster)).toBeUndefined();
    expect(planTeardown({ metadata: { namespace: "garden" }, status: { providerStatus: recorded } }, cluster)).toBeUndefined();
  });
});
