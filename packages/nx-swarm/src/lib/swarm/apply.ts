/**
 * Writes a plan: create or update the service, retrying the races two deploys can run into (a
 * concurrent create: 409; "update out of sequence": someone else's write in between) by reading the
 * service again and re-planning. noop and follow write nothing; recreate is refused.
 */
import { daemonMessage, statusOf } from '../common/http-status';
import { sleep as realSleep } from '../common/sleep';
import { DeployError, explainDaemonError } from './deploy-error';
import type { DeployPlan } from './plan';
import type { SwarmApi } from './swarm-api';

export interface ApplyContext {
  /** Reads the service again and plans anew (after a race). */
  replan: () => Promise<DeployPlan>;
  /** X-Registry-Auth, when withRegistryAuth. */
  headers?: Record<string, string>;
  log: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface Applied {
  /** The plan that was applied (the last one, after re-planning). */
  plan: DeployPlan;
  serviceId?: string;
}

const isOutOfSequence = (e: unknown) => /update out of sequence/i.test(daemonMessage(e));

export const MAX_CREATE_ATTEMPTS = 5;
export const MAX_UPDATE_ATTEMPTS = 8;

export async function applyPlan(api: SwarmApi, first: DeployPlan, ctx: ApplyContext): Promise<Applied> {
  const sleep = ctx.sleep ?? realSleep;
  let plan = first;
  for (let attempt = 1; ; attempt++) {
    if (plan.action === 'recreate') throw new DeployError(plan.notes[0]);
    if (plan.action === 'noop' || plan.action === 'follow') return { plan, serviceId: plan.current?.ID };
    if (plan.action === 'create') {
      try {
        const created = await api.createService(plan.desired, ctx.headers);
        ctx.log(`Created service ${plan.service} (${created.ID.slice(0, 12)}) from ${plan.image}.`);
        return { plan, serviceId: created.ID };
      } catch (error) {
        if (statusOf(error) === 409 && attempt < MAX_CREATE_ATTEMPTS) {
          plan = await ctx.replan(); // created concurrently: update it
          continue;
        }
        throw new DeployError(`Could not create service ${plan.service}: ${explainDaemonError(daemonMessage(error))}`);
      }
    }
    const current = plan.current!;
    try {
      await api.updateService(current.ID, current.Version.Index, plan.desired, ctx.headers);
      if (plan.changes.length) {
        ctx.log(`Updating ${plan.service} (${plan.changes.length} change${plan.changes.length > 1 ? 's' : ''}):`);
        for (const line of plan.changeLines) ctx.log(`  ${line}`);
      } else {
        ctx.log(`Re-issued the spec of ${plan.service}.`);
      }
      return { plan, serviceId: current.ID };
    } catch (error) {
      if (isOutOfSequence(error) && attempt < MAX_UPDATE_ATTEMPTS) {
        await sleep(100 * attempt);
        plan = await ctx.replan();
        continue;
      }
      throw new DeployError(`Could not update service ${plan.service}: ${explainDaemonError(daemonMessage(error))}`);
    }
  }
}
