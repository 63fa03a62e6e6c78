import type { Route } from "../routes.js";
import { accountRoutes } from "./accounts.js";
import { clusterRoutes } from "./cluster.js";
import { emsRoutes } from "./ems.js";
import { interfaceRoutes } from "./interfaces.js";
import { nvmeRoutes } from "./nvme.js";
import { roleRoutes } from "./roles.js";
import { snapmirrorRoutes } from "./snapmirror.js";
import { svmRoutes } from "./svms.js";
import { volumeRoutes } from "./volumes.js";

/** Every ONTAP REST route the simulator serves. */
export const restRoutes: Route[] = [...clusterRoutes, ...svmRoutes, ...interfaceRoutes, ...accountRoutes, ...roleRoutes, ...volumeRoutes, ...nvmeRoutes, ...snapmirrorRoutes, ...emsRoutes];
