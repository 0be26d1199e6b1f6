// @ts-check
/** The page's first script (see early-worker.js): Python starts booting before the page's modules load. */
import { startEarlyWorker } from "./early-worker.js";

startEarlyWorker();
