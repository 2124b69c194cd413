import { Injectable } from '@nestjs/common';

export interface Track {
  id: string;
  title: string;
  artist: string;
  genre: string;
  durationSec: number;
}

export interface TrackPlays {
  track: Track;
  plays: number;
  lastPlayed: Date;
}

const GENRES = ['jazz', 'soul', 'techno', 'folk', 'hip-hop', 'classical'];
const ARTISTS = ['Nina Vale', 'The Quiet Hours', 'Osei & Co', 'Mira Lind', 'Paper Satellites', 'DJ Kestrel'];
/** Simulated database latency, so that the effect of the cache is visible in the demo. */
const LATENCY_MS = 20;

/**
 * The demo's slow data source: a fixed catalogue of 200 tracks and each user's play counts. It
 * counts its reads, so that the e2e tests can tell a cached answer from a fresh one.
 */
@Injectable()
export class CatalogRepository {
  readonly reads = { track: 0, topTracks: 0, recommendations: 0, artist: 0, charts: 0 };
  private readonly tracks = new Map<string, Track>();
  private readonly plays = new Map<string, Map<string, TrackPlays>>();

  constructor() {
    for (let i = 1; i <= 200; i++) {
      this.tracks.set(`t${i}`, {
        id: `t${i}`,
        title: `Track ${i}`,
        artist: ARTISTS[i % ARTISTS.length],
        genre: GENRES[i % GENRES.length],
        durationSec: 120 + ((i * 37) % 240),
      });
    }
    for (let u = 1; u <= 20; u++) {
      for (let k = 1; k <= 5; k++) this.addPlays(`u${u}`, `t${((u * 7 + k * 13) % 200) + 1}`, k * u, new Date(Date.UTC(2026, 0, k)));
    }
  }

  async findTrack(id: string): Promise<Track | null> {
    this.reads.track++;
    await delay();
    return this.tracks.get(id) ?? null;
  }

  async topTracks(userId: string, limit = 10): Promise<TrackPlays[]> {
    this.reads.topTracks++;
    await delay();
    return [...(this.plays.get(userId)?.values() ?? [])].sort((a, b) => b.plays - a.plays).slice(0, limit);
  }

  /** Tracks of the user's favourite genre that the user has not played yet. */
  async recommendations(userId: string, limit = 5): Promise<Track[]> {
    this.reads.recommendations++;
    await delay();
    const played = this.plays.get(userId) ?? new Map<string, TrackPlays>();
    const byGenre = new Map<string, number>();
    for (const p of played.values()) byGenre.set(p.track.genre, (byGenre.get(p.track.genre) ?? 0) + p.plays);
    const favourite = [...byGenre.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? GENRES[0];
    return [...this.tracks.values()].filter((t) => t.genre === favourite && !played.has(t.id)).slice(0, limit);
  }

  /** Tracks of one artist, by slug (`nina-vale`). */
  async tracksByArtist(artist: string): Promise<Track[]> {
    this.reads.artist++;
    await delay();
    return [...this.tracks.values()].filter((t) => slug(t.artist) === artist);
  }

  async renameTrack(id: string, title: string): Promise<Track | null> {
    await delay();
    const track = this.tracks.get(id);
    if (!track) return null;
    const renamed = { ...track, title };
    this.tracks.set(id, renamed);
    return renamed;
  }

  /** The most played tracks over all users. */
  async charts(limit: number): Promise<{ track: Track; plays: number }[]> {
    this.reads.charts++;
    await delay();
    const totals = new Map<string, number>();
    for (const history of this.plays.values()) for (const p of history.values()) totals.set(p.track.id, (totals.get(p.track.id) ?? 0) + p.plays);
    return [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit)
      .map(([id, plays]) => ({ track: this.tracks.get(id)!, plays }));
  }

  userExists(userId: string): boolean {
    return this.plays.has(userId);
  }

  async recordPlay(userId: string, trackId: string): Promise<TrackPlays | null> {
    await delay();
    return this.addPlays(userId, trackId, 1, new Date());
  }

  private addPlays(userId: string, trackId: string, count: number, when: Date): TrackPlays | null {
    const track = this.tracks.get(trackId);
    if (!track) return null;
    let history = this.plays.get(userId);
    if (!history) this.plays.set(userId, (history = new Map()));
    const entry = history.get(trackId) ?? { track, plays: 0, lastPlayed: when };
    entry.plays += count;
    entry.lastPlayed = when;
    history.set(trackId, entry);
    return { ...entry };
  }
}

export const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

const delay = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, LATENCY_MS));
