import type { Custos } from '../composition-root.js';
import { demoLegacySources } from './demo-legacy.js';

/** A small deterministic PRNG (mulberry32), so seeded demo data is the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'river',
  'maple',
  'orbit',
  'lantern',
  'quartz',
  'meadow',
  'cobalt',
  'ember',
  'harbor',
  'willow',
];

const REGIONS = ['us-east', 'us-west', 'sg-central'];

/** What `seedDemo` wrote. */
export interface SeedReport {
  readonly subjects: number;
  readonly records: number;
  /** Records written to the legacy sources (first seeding only; see demo-legacy.ts). */
  readonly legacyRecords: number;
}

/**
 * Seeds `count` demo subjects (four in five from the US, the rest from SG), each with a profile,
 * messages, watch history, a public video and a metrics report, and writes the legacy migration
 * sources. Existing subjects are skipped and legacy sources written once, so seeding is idempotent.
 */
export async function seedDemo(custos: Custos, count: number, seed = 1): Promise<SeedReport> {
  const rand = prng(seed);
  const pick = (): string => WORDS[Math.floor(rand() * WORDS.length)] ?? 'river';
  let subjects = 0;
  let records = 0;
  for (let i = 1; i <= count; i++) {
    const jurisdiction = i % 5 === 0 ? 'SG' : 'US';
    const id = `${jurisdiction.toLowerCase()}-user-${String(i).padStart(5, '0')}`;
    const fresh = await custos.subjects.register(id, jurisdiction);
    if (!fresh) continue;
    subjects++;
    const name = `${pick()}${pick()}${i}`;
    await custos.records.put(id, 'profiles', 'profile', {
      email: `${name}@example.com`,
      phone: `+1-555-${String(1000 + i).slice(-4)}-${String(Math.floor(rand() * 10000)).padStart(4, '0')}`,
      birth_date: `19${70 + Math.floor(rand() * 30)}-0${1 + Math.floor(rand() * 9)}-1${Math.floor(rand() * 9)}`,
      display_name: name,
      bio: `I like ${pick()} and ${pick()}`,
    });
    for (let m = 1; m <= 3; m++) {
      await custos.records.put(id, 'messages', `msg-${m}`, {
        to: `${pick()}-friend-${m}`,
        body: `secret ${pick()} ${pick()} note ${i}-${m}`,
        sent_at: `2026-0${m}-1${m}T10:00:00Z`,
      });
      await custos.records.put(id, 'watch_history', `watch-${m}`, {
        video_id: `vid-${Math.floor(rand() * 100000)}`,
        watched_at: `2026-0${m}-2${m}T20:00:00Z`,
        seconds: Math.floor(rand() * 600),
      });
    }
    await custos.records.put(id, 'public_videos', 'video-1', {
      title: `${pick()} dance ${i}`,
      views: Math.floor(rand() * 1e6),
      uploaded_at: '2026-05-01',
    });
    // One metrics report per subject (no draw from the PRNG, so the other seeded values stay as they were).
    await custos.records.put(id, 'metrics', 'day-1', {
      day: `2026-11-0${1 + (i % 3)}`,
      region: REGIONS[i % REGIONS.length] ?? 'us-east',
      active_users: 100 + ((i * 37) % 900),
    });
    records += 9;
  }
  // Legacy sources to migrate off (README: migrating off legacy sites), when the config declares them.
  const legacy =
    custos.config.migration.sources.length > 0 ? demoLegacySources(custos.config.dataDir) : undefined;
  return { subjects, records, legacyRecords: legacy?.records ?? 0 };
}
