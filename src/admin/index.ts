// The admin API, /api/v1: every route behind the admin token.
import { Hono } from 'hono';
import { advertiserRoutes } from './advertisers';
import { requireAdmin } from './auth';
import { offerRoutes } from './offers';
import { publisherRoutes } from './publishers';

export const adminApi = new Hono<{ Bindings: Env }>();

adminApi.use('*', requireAdmin);
adminApi.route('/advertisers', advertiserRoutes);
adminApi.route('/offers', offerRoutes);
adminApi.route('/publishers', publisherRoutes);
