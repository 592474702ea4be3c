// The admin API, /api/v1: every route behind the admin token.
import { Hono } from 'hono';
import { advertiserRoutes } from './advertisers';
import { requireAdmin } from './auth';
import { clickRoutes } from './clicks';
import { conversionRoutes } from './conversions';
import { deliveryRoutes } from './deliveries';
import { endpointRoutes } from './endpoints';
import { offerRoutes } from './offers';
import { postbackLogRoutes } from './postbacks';
import { publisherRoutes } from './publishers';
import { reportRoutes } from './reports';

export const adminApi = new Hono<{ Bindings: Env }>();

adminApi.use('*', requireAdmin);
adminApi.route('/advertisers', advertiserRoutes);
adminApi.route('/offers', offerRoutes);
adminApi.route('/publishers', publisherRoutes);
adminApi.route('/conversions', conversionRoutes);
adminApi.route('/postbacks', postbackLogRoutes);
adminApi.route('/clicks', clickRoutes);
adminApi.route('/endpoints', endpointRoutes);
adminApi.route('/deliveries', deliveryRoutes);
adminApi.route('/reports', reportRoutes);
