/** The product version, reported by /health and coordinator://status. */
export const VERSION = "0.1.0";
