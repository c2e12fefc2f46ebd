// Tandem admin console: one page over the REST API (/api/v1), hash routing, no framework and
// no build step (the server embeds these ES modules as they are). Everything on screen is built
// with DOM calls (never innerHTML), so no text from the server is ever parsed as markup. The
// page's Content-Security-Policy allows no inline script: every handler is attached in code.
//
// Routes:  #/login  #/domains  #/server  #/d/<namespace>/<domain>/<section>[/<id>...]
// Every interactive element has a stable data-testid (tests/console/ drives the page).
//
// This entry module maps the routes to their pages and starts the console. The others:
//   core.js     DOM and formatting helpers, login state, REST client, events stream
//   widgets.js  page frame, cards, forms, notice, confirm dialog, paged tables
//   shell.js    login screen, sidebar, domain picker, router
//   views-*.js  the pages, by area

import { start } from "./shell.js";
import { viewDomains, viewSettings } from "./views-domains.js";
import { viewServer } from "./views-server.js";
import { viewCollections } from "./views-collections.js";
import { viewModels } from "./views-models.js";
import { viewGroups, viewJwtKeys, viewUsers } from "./views-users.js";
import { viewPermissions } from "./views-permissions.js";
import { viewSessions } from "./views-sessions.js";
import { viewChats } from "./views-chats.js";
import { viewActivities } from "./views-activities.js";
import { viewWebhooks } from "./views-webhooks.js";

start(
  { domains: viewDomains, server: viewServer },
  {
    settings: viewSettings,
    collections: viewCollections,
    models: viewModels,
    users: viewUsers,
    groups: viewGroups,
    sessions: viewSessions,
    permissions: viewPermissions,
    "jwt-keys": viewJwtKeys,
    chats: viewChats,
    activities: viewActivities,
    webhooks: viewWebhooks,
  },
);
