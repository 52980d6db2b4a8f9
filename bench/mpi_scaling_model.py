#!/usr/bin/env python3
"""Predicted parallel efficiency of an attncert job on P MPI ranks, from measured unit costs.

Input: the files a run writes with ATTNCERT_UNIT_TIMES=PREFIX (PREFIX.RANK, one line per unit:
section, unit, seconds, bytes, finished_at), the wall time of a 1-process run of the same job
(T1) and the coordinator figures bench/unit_dispatch_bench measures. Model, per section (a
section ends with a barrier, so sections add up):
  - units are handed out in index order to whichever rank is free (list scheduling), each
    hand-out costing the requesting rank `latency` seconds and the coordinator `service`
    seconds, one at a time (a queue: past 1/service units per second ranks wait for it);
  - serial: the work every rank (or rank 0 alone) does outside units (the search above a
    proof's frontier, rendering and writing outputs), not divided. By default T1 − (sum of all
    unit costs); with --t2, the measured wall time of the run that wrote the files on 2 ranks
    minus the model's scheduled time at 2 ranks — better when unit costs measured on 2 ranks
    differ from the 1-process run's (noise on a shared host, units a 1-process run does not log).
Efficiency(P) = T1 / (P · T_P).
  mpi_scaling_model.py PREFIX RANKS_IN_FILES T1 [--t2 T2] [--latency 220e-6] [--service 100e-6]
                       [--ranks 2,64,256,1024]
"""
import argparse
import collections
import heapq


def section_time(costs, ranks, latency, service):
    free = [0.0] * ranks  # when each rank next asks for a unit
    heapq.heapify(free)
    coordinator = 0.0     # when the coordinator is next free
    end = 0.0
    for c in costs:
        t = heapq.heappop(free)
        start = max(t, coordinator) + latency
        coordinator = max(t, coordinator) + service
        done = start + c
        end = max(end, done)
        heapq.heappush(free, done)
    return end


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("prefix")
    ap.add_argument("files", type=int, help="how many PREFIX.RANK files the measured run wrote")
    ap.add_argument("t1", type=float, help="wall seconds of the same job on one process")
    ap.add_argument("--latency", type=float, default=220e-6)
    ap.add_argument("--service", type=float, default=100e-6)
    ap.add_argument("--ranks", default="1,2,64,256,1024")
    ap.add_argument("--t2", type=float, help="measured wall seconds of the 2-rank run that wrote the files")
    a = ap.parse_args()
    sections = collections.defaultdict(dict)
    for r in range(a.files):
        for line in open(f"{a.prefix}.{r}"):
            s, u, sec, _, _ = line.split()
            sections[int(s)][int(u)] = float(sec)
    total = sum(sum(v.values()) for v in sections.values())

    def scheduled(p):
        return sum(section_time([sections[s][u] for u in sorted(sections[s])], p, a.latency, a.service)
                   for s in sorted(sections))

    serial = max(0.0, (a.t2 - scheduled(2)) if a.t2 else a.t1 - total)
    print(f"units: {sum(len(v) for v in sections.values())} in {len(sections)} sections, "
          f"{total:.1f} s of unit work; serial part {serial:.1f} s of T1 = {a.t1:.1f} s")
    for s in sorted(sections):
        costs = sorted(sections[s].values())
        print(f"  section {s}: {len(costs)} units, median {costs[len(costs)//2]*1e3:.1f} ms, "
              f"largest {costs[-1]:.2f} s ({100*costs[-1]/sum(costs):.0f}% of the section)")
    for p in [int(x) for x in a.ranks.split(",")]:
        tp = serial + scheduled(p)
        print(f"P = {p:5d}: T_P = {tp:8.2f} s, speed-up {a.t1/tp:7.1f}, efficiency {a.t1/(p*tp):6.3f}")


if __name__ == "__main__":
    main()
