#!/usr/bin/env node
// The bridge is written in TypeScript; tsx compiles it on the fly so `npm install` is all the set-up there is.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
