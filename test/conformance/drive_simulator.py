"""Behaviour conformance: NetApp's own client drives the simulator through every operation this project uses,
and every answer is parsed by the vendor: strictly by its resource classes (unknown top-level fields raise) and,
through a response hook, field by field against its schemas (wire names, types, enums, nested objects).

Input (argv[1]): JSON {"host", "port", "username", "password", "caFile"} of one simulated cluster.
Output: one JSON line {"vendor", "operations": [...], "responses": N, "problems": [...]}; exit 1 on a problem.
"""

import json
import os
import re
import sys
import time
import traceback
from urllib.parse import urlparse

# requests prefers REQUESTS_CA_BUNDLE over a verify= path: the simulator's private CA must be the one used.
os.environ.pop("REQUESTS_CA_BUNDLE", None)
os.environ.pop("CURL_CA_BUNDLE", None)

import netapp_ontap  # noqa: E402
from netapp_ontap import HostConnection, config  # noqa: E402
from netapp_ontap.error import NetAppRestError  # noqa: E402
from netapp_ontap.models.collection_links import CollectionLinksSchema  # noqa: E402
from netapp_ontap.models.job_link import JobLinkSchema  # noqa: E402
from netapp_ontap.models.returned_error import ReturnedErrorSchema  # noqa: E402
from netapp_ontap.resources import (  # noqa: E402
    Account,
    AccountPassword,
    Aggregate,
    BgpPeerGroup,
    Cluster,
    IpInterface,
    Job,
    Node,
    NvmeNamespace,
    NvmeSubsystem,
    NvmeSubsystemHost,
    NvmeSubsystemMap,
    Role,
    RolePrivilege,
    Snapshot,
    Svm,
    Volume,
)

import vendor_schema as vendor  # noqa: E402

config.STRICT_FIELD_ACCEPTANCE = True  # an answer field the vendor's model does not know raises
# STRICT_SCHEMA_TYPE_CHECK stays off: in 9.19.1.0 its validate_schema() refuses every nested value on PATCH
# (IpInterface.ip given as a dict or as IpInfo alike); the bodies this project sends are checked by check_schema.py.

problems = []
operations = []
responses = 0
seen = []  # "METHOD /path" of every answer, in order


def resource_for_url(path):
    """The vendor resource serving a concrete URL path (/api/svm/svms/<uuid> -> Svm,
    /api/protocols/nvme/subsystems/<uuid>/hosts -> NvmeSubsystemHost): the vendor path whose placeholders match,
    after dropping up to two trailing key segments."""
    segments = path.rstrip("/").split("/")
    for cut in range(0, 3):
        candidate = "/".join(segments[: len(segments) - cut]) if cut else "/".join(segments)
        for vendor_path, cls in vendor._resource_classes().items():
            pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(vendor_path))
            if re.fullmatch(pattern, candidate):
                return cls
    return None


def check_answer(response, *_args, **_kwargs):
    """requests response hook: every answer of the simulator, checked against the vendor's schema."""
    global responses
    responses += 1
    path = urlparse(response.url).path
    if path.startswith("/__sim/"):
        return  # the simulator's own admin API, not ONTAP
    seen.append(f"{response.request.method} {path}")
    label = f"{response.request.method} {path} -> {response.status_code}"
    ctype = response.headers.get("Content-Type", "")
    if not response.content:
        return
    if "json" not in ctype:
        problems.append(f"{label}: Content-Type {ctype!r} is not JSON")
        return
    body = response.json()
    found = []
    if "error" in body:
        vendor.validate_value(ReturnedErrorSchema(), body["error"], "error", found)
        if not isinstance(body["error"].get("code"), str):
            found.append("error.code: ONTAP sends the code as a string")
        extra = set(body) - {"error"}
        if extra:
            found.append(f"error envelope carries more than the error: {sorted(extra)}")
    else:
        cls = resource_for_url(path)
        if cls is None:
            found.append("no vendor resource serves this path")
        else:
            schema = vendor.schema_of(cls)
            rest = dict(body)
            if "job" in rest:
                vendor.validate_value(JobLinkSchema(), rest.pop("job"), "job", found)
            if "records" in rest or "num_records" in rest:
                for i, record in enumerate(rest.pop("records", [])):
                    vendor.validate_value(schema, record, f"records[{i}]", found)
                if not isinstance(rest.pop("num_records", 0), int):
                    found.append("num_records: not an integer")
                if "_links" in rest:
                    vendor.validate_value(CollectionLinksSchema(), rest.pop("_links"), "_links", found)
            if rest:
                vendor.validate_value(schema, rest, "", found)
    problems.extend(f"{label}: {p}" for p in found)


def op(name):
    def wrap(fn):
        def run(*args):
            try:
                result = fn(*args)
                operations.append({"operation": name, "ok": True})
                return result
            except Exception as exc:  # a vendor parse error, an HTTP error, a failed expectation
                detail = str(exc) or exc.__class__.__name__
                problems.append(f"{name}: {detail}")
                operations.append({"operation": name, "ok": False, "error": detail, "trace": traceback.format_exc(limit=3)})
                return None

        return run

    return wrap


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def jobs_polled_since(mark):
    return [s for s in seen[mark:] if s.startswith("GET /api/cluster/jobs/")]


def connect(target, username, password):
    conn = HostConnection(
        target["host"], port=target["port"], username=username, password=password, verify=target["caFile"],
        poll_interval=1, poll_timeout=30,
    )
    conn.session.hooks["response"].append(check_answer)
    return conn


def main():
    target = json.load(open(sys.argv[1], encoding="utf-8"))
    admin = connect(target, target["username"], target["password"])
    svm_name = "pconformance"
    user, first, second = "conformance-user", "Vendor-Client-1a!", "Vendor-Client-2b!"

    with admin:
        @op("cluster: GET /api/cluster without fields carries metric and statistics")
        def cluster():
            c = Cluster()
            c.get()
            expect(c.name and c.uuid and c.version.generation == 9, f"cluster identity incomplete: {c}")
            expect(hasattr(c, "metric") and hasattr(c, "statistics"), "metric/statistics missing by default")
            expect(c.statistics.iops_raw.total >= 0 and c.metric.iops.total >= 0, "counters missing")

        @op("nodes: GET /api/cluster/nodes?fields=uuid,name")
        def nodes():
            found = list(Node.get_collection(fields="uuid,name"))
            expect(len(found) == 2 and all(n.uuid and n.name for n in found), f"nodes: {found}")
            return found

        @op("aggregates: GET /api/storage/aggregates?fields=uuid,name,volume-count")
        def aggregates():
            found = list(Aggregate.get_collection(fields="uuid,name,volume-count"))
            expect(found and all(isinstance(a.volume_count, int) for a in found), f"volume-count not parsed: {found}")
            return found

        @op("aggregates: the Python attribute name volume_count is refused as ONTAP refuses it (400, 262197)")
        def python_name_refused():
            try:
                list(Aggregate.get_collection(fields="volume_count"))
            except NetAppRestError as err:
                expect(err.http_err_response.http_response.status_code == 400, f"status {err}")
                expect(err.http_err_response.http_response.json()["error"]["code"] == "262197", f"code {err}")
                return
            raise AssertionError("fields=volume_count was answered")

        @op("SVM create: POST /api/svm/svms polled through its job")
        def create_svm(aggrs):
            svm = Svm(name=svm_name, aggregates=[{"uuid": a.uuid} for a in aggrs], nvme={"enabled": True, "allowed": True})
            mark = len(seen)
            svm.post(poll=True)
            expect(jobs_polled_since(mark), "SVM create was not polled through a job")
            found = list(Svm.get_collection(name=svm_name, fields="uuid,name,state,subtype,nvme.enabled"))
            expect(len(found) == 1 and found[0].state == "running" and found[0].nvme.enabled, f"SVM after its job: {found}")
            return found[0]

        @op("SVM get: GET /api/svm/svms/{uuid}")
        def get_svm(svm):
            one = Svm(uuid=svm.uuid)
            one.get(fields="uuid,name,state,subtype,nvme.enabled")
            expect(one.name == svm_name, f"SVM by uuid: {one}")

        @op("SVM aggregates: PATCH /api/svm/svms/{uuid} with the aggr-list, polled through its job")
        def patch_svm_aggregates(svm, aggrs):
            # The vendor's idiom: fields set after construction are the ones a PATCH sends.
            one = Svm(uuid=svm.uuid)
            one.aggregates = [{"uuid": aggrs[0].uuid}]
            mark = len(seen)
            one.patch(poll=True)
            expect(jobs_polled_since(mark), "SVM PATCH was not polled through a job")
            one.get(fields="aggregates")
            expect([a.uuid for a in one.aggregates] == [aggrs[0].uuid], f"aggr-list after PATCH: {one}")
            one.aggregates = [{"uuid": a.uuid} for a in aggrs]
            one.patch(poll=True)
            one.get(fields="aggregates")
            expect(sorted(a.uuid for a in one.aggregates) == sorted(a.uuid for a in aggrs), f"aggr-list restored: {one}")

        @op("interfaces: POST, GET by svm.uuid, PATCH, DELETE /api/network/ip/interfaces")
        def interfaces(svm, node):
            lif = IpInterface(
                name="managementlif",
                ip={"address": "10.130.0.10", "netmask": "24"},
                svm={"uuid": svm.uuid},
                location={"home_node": {"uuid": node.uuid}},
                service_policy={"name": "default-management"},
                enabled=True,
            )
            lif.post()
            fields = "uuid,name,ip.address,ip.netmask,location.home_node.uuid,service_policy.name"
            listed = list(IpInterface.get_collection(**{"svm.uuid": svm.uuid, "name": "managementlif", "fields": fields}))
            expect(len(listed) == 1 and listed[0].ip.address == "10.130.0.10", f"interfaces: {listed}")
            found = listed[0]
            # As this project's client does: a PATCH that carries only the new address.
            change = IpInterface(uuid=found.uuid)
            change.ip = {"address": "10.130.0.11", "netmask": "24"}  # the vendor sends what changed after construction
            change.patch()
            again = IpInterface(uuid=found.uuid)
            again.get(fields=fields)
            expect(again.ip.address == "10.130.0.11", f"after PATCH: {again}")
            again.delete()
            expect(IpInterface.count_collection(**{"svm.uuid": svm.uuid}) == 0, "interface still listed after DELETE")

        @op("BGP peer groups: GET /api/network/ip/bgp/peer-groups")
        def bgp():
            expect(BgpPeerGroup.count_collection() > 0, "no peer groups")
            groups = list(BgpPeerGroup.get_collection(fields="*"))
            expect(all(g.name for g in groups), f"peer groups: {groups}")

        @op("accounts: POST, GET by owner, GET /api/security/accounts/{owner.uuid}/{name}")
        def accounts(svm):
            account = Account(
                name=user,
                owner={"uuid": svm.uuid},
                role={"name": "vsadmin"},
                applications=[{"application": "http", "authentication_methods": ["password"]}],
                password=first,
                locked=False,
            )
            account.post()
            listed = list(Account.get_collection(**{"owner.uuid": svm.uuid, "name": user, "fields": "name,owner.uuid,owner.name,role.name,locked"}))
            expect(len(listed) == 1 and listed[0].role.name == "vsadmin" and listed[0].locked is False, f"accounts: {listed}")
            one = Account(owner={"uuid": svm.uuid}, name=user)
            one.get(fields="name,owner.uuid,owner.name,role.name,locked")
            expect(one.owner.name == svm_name, f"account: {one}")

        @op("password change: POST /api/security/authentication/password")
        def change_password():
            AccountPassword(owner={"name": svm_name}, name=user, password=second).post()

        @op("volumes: GET /api/storage/volumes?svm.uuid=U&is_svm_root=false&return_records=false")
        def volumes(svm):
            expect(Volume.count_collection(**{"svm.uuid": svm.uuid, "is_svm_root": False}) == 0, "data volumes")

        @op("NVMe SAN: volume, snapshot, FlexClone, namespace, subsystem, host, map, resize, unmap and deletes as Trident uses them")
        def nvme_san(svm, aggrs):
            gib = 1024 ** 3
            vol = Volume(name="trident_pvc_v", size=2 * gib, svm={"uuid": svm.uuid}, aggregates=[{"name": aggrs[0].name}],
                         guarantee={"type": "none"}, snapshot_policy={"name": "none"}, space={"snapshot": {"reserve_percent": 0}})
            vol.post(poll=True)
            found = list(Volume.get_collection(**{"name": "trident_pvc_v", "svm.uuid": svm.uuid, "fields": "uuid,name,size,guarantee,nas,space.snapshot.used"}))
            expect(len(found) == 1 and found[0].size == 2 * gib, f"volume: {found}")
            vol_uuid = found[0].uuid
            ns = NvmeNamespace(name="/vol/trident_pvc_v/namespace0", os_type="linux", space={"size": gib, "block_size": 4096}, svm={"uuid": svm.uuid})
            ns.post()
            ns_found = list(NvmeNamespace.get_collection(**{"name": "/vol/trident_pvc_v/*", "fields": "**"}))
            expect(len(ns_found) == 1 and ns_found[0].space.size == gib, f"namespace: {ns_found}")
            sub = NvmeSubsystem(name="s_vendor", os_type="linux", svm={"uuid": svm.uuid})
            sub.post()
            sub_found = list(NvmeSubsystem.get_collection(name="s_vendor", fields="uuid,name,target_nqn,hosts"))
            expect(len(sub_found) == 1 and sub_found[0].target_nqn.startswith("nqn."), f"subsystem: {sub_found}")
            sub_uuid = sub_found[0].uuid
            NvmeSubsystemHost(sub_uuid, nqn="nqn.2014-08.org.nvmexpress:uuid:vendor-node").post()
            hosts = list(NvmeSubsystemHost.get_collection(sub_uuid))
            expect([h.nqn for h in hosts] == ["nqn.2014-08.org.nvmexpress:uuid:vendor-node"], f"hosts: {hosts}")
            NvmeSubsystemMap(namespace={"uuid": ns_found[0].uuid}, subsystem={"uuid": sub_uuid}, svm={"uuid": svm.uuid}).post()
            maps = list(NvmeSubsystemMap.get_collection(**{"subsystem.uuid": sub_uuid, "fields": "**"}))
            expect(len(maps) == 1 and maps[0].namespace.uuid == ns_found[0].uuid, f"maps: {maps}")
            Snapshot(vol_uuid, name="snap1", svm={"uuid": svm.uuid}).post(poll=True)
            snaps = list(Snapshot.get_collection(vol_uuid, fields="name,create_time"))
            expect([x.name for x in snaps] == ["snap1"], f"snapshots: {snaps}")
            Volume(name="trident_pvc_c", svm={"uuid": svm.uuid},
                   clone={"parent_volume": {"name": "trident_pvc_v"}, "parent_snapshot": {"name": "snap1"}, "is_flexclone": True}).post(poll=True)
            clones = list(Volume.get_collection(**{"clone.parent_volume.name": "trident_pvc_v", "fields": "name,clone"}))
            expect([c.name for c in clones] == ["trident_pvc_c"] and clones[0].clone.is_flexclone, f"clones: {clones}")
            grow = Volume(uuid=vol_uuid)
            grow.size = 4 * gib
            grow.patch(poll=True)
            bigger = NvmeNamespace(uuid=ns_found[0].uuid)
            bigger.space = {"size": 3 * gib}
            bigger.patch()
            NvmeSubsystemMap(subsystem={"uuid": sub_uuid}, namespace={"uuid": ns_found[0].uuid}).delete()
            NvmeSubsystem(uuid=sub_uuid).delete(allow_delete_with_hosts=True)
            Volume(uuid=clones[0].uuid).delete(poll=True)
            Snapshot(vol_uuid, uuid=snaps[0].uuid).delete(poll=True)
            Volume(uuid=vol_uuid).delete(poll=True)
            expect(Volume.count_collection(**{"svm.uuid": svm.uuid, "is_svm_root": False}) == 0, "data volumes left")
            expect(NvmeNamespace.count_collection() == 0, "namespaces left")

        @op("SVM user: refused on the cluster interface, authenticates at its SVM management LIF and sees only its SVM")
        def svm_user(svm, node):
            with connect(target, user, second):
                try:
                    Svm.count_collection()
                    raise AssertionError("an SVM account logged in on the cluster management interface")
                except NetAppRestError as err:
                    expect(err.http_err_response.http_response.status_code == 401, f"cluster interface: {err}")
            IpInterface(
                name="managementlif",
                ip={"address": "10.130.0.12", "netmask": "24"},
                svm={"uuid": svm.uuid},
                location={"home_node": {"uuid": node.uuid}},
                service_policy={"name": "default-management"},
                enabled=True,
            ).post()
            endpoints = admin.session.get(f"{admin.origin}/__sim/lif-endpoints").json()["endpoints"]
            lif_url = urlparse(endpoints["10.130.0.12"]["url"])
            lif = {**target, "host": lif_url.hostname, "port": lif_url.port}
            with connect(lif, user, second):
                seen = list(Svm.get_collection(fields="name"))
                expect([s.name for s in seen] == [svm_name], f"SVM user sees {seen}")

        @op("SVM role: POST /api/security/roles, GET, its privileges POST/PATCH/DELETE, the account's role.name PATCHed; held to it at its LIF")
        def svm_role(svm):
            Role(owner={"uuid": svm.uuid}, name="trident",
                 privileges=[{"path": "/api/svm/svms", "access": "readonly"}, {"path": "/api/cluster", "access": "readonly"}]).post()
            RolePrivilege(svm.uuid, "trident", path="/api/storage/volumes", access="all").post()
            tuple_ = RolePrivilege(svm.uuid, "trident", path="/api/storage/volumes")
            tuple_.access = "readonly"
            tuple_.patch()
            RolePrivilege(svm.uuid, "trident", path="/api/cluster").delete()
            role = Role(owner={"uuid": svm.uuid}, name="trident")
            role.get(fields="name,owner.uuid,privileges")
            got = sorted((p.path, p.access) for p in role.privileges)
            expect(got == [("/api/storage/volumes", "readonly"), ("/api/svm/svms", "readonly")], f"role: {got}")
            account = Account(owner={"uuid": svm.uuid}, name=user)
            account.role = {"name": "trident"}
            account.patch()
            endpoints = admin.session.get(f"{admin.origin}/__sim/lif-endpoints").json()["endpoints"]
            lif_url = urlparse(endpoints["10.130.0.12"]["url"])
            with connect({**target, "host": lif_url.hostname, "port": lif_url.port}, user, second):
                expect([s.name for s in Svm.get_collection(fields="name")] == [svm_name], "SVM user on its role reads its SVM")
                try:
                    Account.count_collection()
                    raise AssertionError("the role let the SVM user read accounts")
                except NetAppRestError as err:
                    expect(err.http_err_response.http_response.status_code == 403, f"role refusal: {err}")
            account.role = {"name": "vsadmin"}
            account.patch()

        @op("account delete: DELETE /api/security/accounts/{owner.uuid}/{name}")
        def delete_account(svm):
            Account(owner={"uuid": svm.uuid}, name=user).delete()
            expect(Account.count_collection(**{"owner.uuid": svm.uuid, "name": user}) == 0, "account still there")

        @op("SVM delete: DELETE /api/svm/svms/{uuid} polled through its job")
        def delete_svm(svm):
            mark = len(seen)
            Svm(uuid=svm.uuid).delete(poll=True)
            polled = jobs_polled_since(mark)
            expect(polled, "SVM delete was not polled through a job")
            job = Job(uuid=polled[-1].rsplit("/", 1)[1])
            job.get()
            expect(job.state == "success", f"delete job: {job}")
            expect(Svm.count_collection(name=svm_name) == 0, "SVM still listed after its delete job")

        cluster()
        found_nodes = nodes()
        found_aggregates = aggregates()
        python_name_refused()
        svm = create_svm(found_aggregates or [])
        if svm is not None and found_nodes:
            get_svm(svm)
            patch_svm_aggregates(svm, found_aggregates)
            interfaces(svm, found_nodes[0])
            bgp()
            accounts(svm)
            change_password()
            volumes(svm)
            nvme_san(svm, found_aggregates)
            svm_user(svm, found_nodes[0])
            svm_role(svm)
            delete_account(svm)
            delete_svm(svm)

    print(json.dumps({"vendor": netapp_ontap.__version__, "operations": operations, "responses": responses, "problems": problems}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
