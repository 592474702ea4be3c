// Advertiser postbacks (inbound S2S): /postback and its compatibility profiles.
import { Hono } from 'hono';

export const postbackRoutes = new Hono<{ Bindings: Env }>();
