import { describe, expect, it } from "vitest";
import {
  buildPath,
  buildQuery,
  collectPages,
  exactFilterValue,
  fillPath,
  nextPagePath,
  type Page,
  PaginationError,
  svmNameFilter,
} from "../../src/ontap/query.js";

describe("fillPath / buildPath", () => {
  it("fills placeholders with encoded values, including dotted names", () => {
    expect(fillPath("/api/security/accounts/{owner.uuid}/{name}", { "owner.uuid": "u-1", name: "a b/c" })).toBe(
      "/api/security/accounts/u-1/a%20b%2Fc",
    );
  });

  it("refuses to send a request with an unfilled placeholder", () => {
    expect(() => fillPath("/api/svm/svms/{uuid}", {})).toThrow(/missing path parameter uuid/);
    expect(() => fillPath("/api/svm/svms/{uuid}", { uuid: "" })).toThrow(RangeError);
  });

  it("appends a sorted query with list values joined by commas and ONTAP operators kept readable", () => {
    expect(
      buildPath("/api/svm/svms", {}, { name: "p1|p1-mc", fields: ["uuid", "name", "nvme.enabled"], max_records: 2 }),
    ).toBe("/api/svm/svms?fields=uuid,name,nvme.enabled&max_records=2&name=p1|p1-mc");
  });

  it("encodes characters that would break the query and leaves out undefined values", () => {
    expect(buildQuery({ a: "x&y=z", b: undefined, c: false })).toBe("?a=x%26y%3Dz&c=false");
    expect(buildQuery({})).toBe("");
  });
});

describe("exact filters", () => {
  it("asks for an SVM and its MetroCluster copy in one filter", () => {
    expect(svmNameFilter("p123")).toBe("p123|p123-mc");
  });

  it("refuses names that ONTAP would read as query operators", () => {
    for (const bad of ["p*", "a|b", "!p", "", "a b", "1..3", ">x"]) {
      expect(() => exactFilterValue(bad, "SVM name")).toThrow(RangeError);
    }
    expect(exactFilterValue("shoot--p1_a.b-c", "name")).toBe("shoot--p1_a.b-c");
  });
});

describe("nextPagePath", () => {
  const origin = "https://127.0.0.1:8443";
  it("accepts a path and a same-origin absolute link", () => {
    expect(nextPagePath("/api/svm/svms?start.uuid=x&max_records=2", origin)).toBe(
      "/api/svm/svms?start.uuid=x&max_records=2",
    );
    expect(nextPagePath(`${origin}/api/svm/svms?page=2`, origin)).toBe("/api/svm/svms?page=2");
  });

  it("refuses a link to another host or outside /api/, so credentials are never sent elsewhere", () => {
    expect(nextPagePath("https://evil.example/api/svm/svms", origin)).toBeUndefined();
    expect(nextPagePath("/__sim/state", origin)).toBeUndefined();
  });
});

describe("collectPages", () => {
  const origin = "https://h:1";
  function pages(map: Record<string, Page<number>>) {
    const fetched: string[] = [];
    return {
      fetched,
      fetch: async (path: string) => {
        fetched.push(path);
        const page = map[path];
        if (!page) throw new Error(`unexpected ${path}`);
        return page;
      },
    };
  }

  it("follows next links until a page has none", async () => {
    const p = pages({
      "/api/x?max_records=2": { records: [1, 2], nextHref: "/api/x?start=3&max_records=2" },
      "/api/x?start=3&max_records=2": { records: [3, 4], nextHref: "/api/x?start=5&max_records=2" },
      "/api/x?start=5&max_records=2": { records: [5] },
    });
    expect(await collectPages("/api/x?max_records=2", origin, p.fetch)).toEqual([1, 2, 3, 4, 5]);
    expect(p.fetched).toHaveLength(3);
  });

  it("stops with an error on a link loop instead of spinning", async () => {
    const p = pages({ "/api/x": { records: [1], nextHref: "/api/x" } });
    await expect(collectPages("/api/x", origin, p.fetch)).rejects.toBeInstanceOf(PaginationError);
  });

  it("stops with an error on a link that leaves the cluster", async () => {
    const p = pages({ "/api/x": { records: [1], nextHref: "https://other:1/api/x?p=2" } });
    await expect(collectPages("/api/x", origin, p.fetch)).rejects.toThrow(/not a path on this cluster/);
  });
});
