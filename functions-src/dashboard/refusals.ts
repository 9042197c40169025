/** What each refusal of the dashboard's SQL tells the caller to do. */
import { ApiError } from "../http/errors.ts";
import { defineRefusals } from "../ops/call.ts";

export const dashboardRefusals = defineRefusals({
  no_session: () =>
    new ApiError(401, "no_session", "Not signed in to the dashboard, or the session expired: sign in with an API key."),
});
