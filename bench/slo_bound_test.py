#!/usr/bin/env python3
"""Tests of bench/slo_bound.py, the attainment simulator (run by ctest as slo_bound)."""

import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slo_bound  # noqa: E402


def good_answers(arrivals, latency_ms, slo_ms, policy):
    return slo_bound.simulate(arrivals, slo_bound.Device(latency_ms), slo_ms, policy)


class CapacityTest(unittest.TestCase):
    def test_best_rate_among_batches_whose_latency_twice_fits_the_slo(self):
        # 2 x L(3) = 22 > 20, so b = 3 and 4 do not count, though they are faster.
        self.assertAlmostEqual(slo_bound.capacity_per_s([5, 8, 11, 12], 20), 250.0)

    def test_no_batch_fits(self):
        with self.assertRaises(ValueError):
            slo_bound.capacity_per_s([11], 20)


class PolicyTest(unittest.TestCase):
    def test_greedy_runs_the_first_request_alone_and_loses_the_two_behind_it(self):
        # At 0 only the first request is there; its batch ends at 10, when the
        # other two can no longer finish by 16 and 17.
        self.assertEqual(good_answers([0.0, 1.0, 2.0], [10, 11, 12], 15, slo_bound.greedy), 1)

    def test_lookahead_waits_for_the_next_arrivals_and_answers_all_three(self):
        lookahead = slo_bound.make_lookahead(100.0)
        self.assertEqual(good_answers([0.0, 1.0, 2.0], [10, 11, 12], 15, lookahead), 3)

    def test_a_request_that_cannot_finish_alone_is_never_counted(self):
        self.assertEqual(good_answers([0.0, 50.0], [10], 9, slo_bound.greedy), 0)

    def test_batches_never_exceed_the_profile(self):
        # Four at once, batches of at most 2 taking 10 each: the second batch
        # ends at 20, within an SLO of 20. With 19, the second batch would
        # end late, so one request runs alone (6 ms) and the last is dropped.
        self.assertEqual(good_answers([0.0, 0.0, 0.0, 0.0], [6, 10], 20, slo_bound.greedy), 4)
        self.assertEqual(good_answers([0.0, 0.0, 0.0, 0.0], [6, 10], 19, slo_bound.greedy), 3)


class AttainmentTest(unittest.TestCase):
    def test_light_load_is_all_answered_in_time(self):
        share, _ = slo_bound.attainment([5.0, 8.0], 40.0, 5.0, slo_bound.greedy, seed=1)
        self.assertEqual(share, 1.0)

    def test_attainment_falls_as_load_rises(self):
        profile = [4.77, 8.01, 11.80, 13.98]
        light, _ = slo_bound.attainment(profile, 19.61, 0.5 * 249.6, slo_bound.greedy, seed=3)
        heavy, _ = slo_bound.attainment(profile, 19.61, 1.5 * 249.6, slo_bound.greedy, seed=3)
        self.assertGreater(light, heavy)
        self.assertLess(heavy, 0.9)

    def test_the_same_seed_gives_the_same_arrivals(self):
        self.assertEqual(slo_bound.poisson_arrivals(200, 1, 7), slo_bound.poisson_arrivals(200, 1, 7))
        self.assertNotEqual(slo_bound.poisson_arrivals(200, 1, 7), slo_bound.poisson_arrivals(200, 1, 8))


class CommandLineTest(unittest.TestCase):
    def run_main(self, argv):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = slo_bound.main(argv)
        return status, out.getvalue()

    def test_table_from_a_profile(self):
        status, out = self.run_main(["--latency-ms", "5,8", "--loads", "0.5", "--runs", "2", "--duration-s", "1",
                                     "--policies", "greedy"])
        self.assertEqual(status, 0)
        self.assertIn("SLO 20.00 ms, C 250.0 requests/s", out)
        self.assertIn("| 0.5 | greedy | 0% |", out)

    def test_profile_slo_and_capacity_come_from_the_sweep_json(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
            json.dump({"method": {"latency_profile_ms": [4.0, 6.0], "slo_ms": 16.0, "capacity_per_s": 333.3}}, file)
        try:
            status, out = self.run_main(["--sweep-json", file.name, "--loads", "0.5", "--runs", "1",
                                         "--duration-s", "1", "--policies", "greedy"])
        finally:
            os.unlink(file.name)
        self.assertEqual(status, 0)
        self.assertIn("L(b) from " + file.name + ": 4.00, 6.00 ms", out)
        self.assertIn("SLO 16.00 ms, C 333.3 requests/s", out)

    def test_a_sweep_without_a_profile_is_refused_by_name(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
            json.dump({"method": {"slo_ms": 16.0, "capacity_per_s": 333.3}}, file)
        try:
            with self.assertRaises(SystemExit) as raised:
                self.run_main(["--sweep-json", file.name])
        finally:
            os.unlink(file.name)
        self.assertIn("latency_profile_ms", str(raised.exception))

    def test_bad_numbers_are_refused_by_flag(self):
        with self.assertRaises(SystemExit) as raised:
            self.run_main(["--latency-ms", "5,x"])
        self.assertIn("--latency-ms", str(raised.exception))
        with self.assertRaises(SystemExit) as raised:
            self.run_main(["--latency-ms", "5", "--policies", "oracle"])
        self.assertIn("unknown policy 'oracle'", str(raised.exception))
        with self.assertRaises(SystemExit) as raised:
            self.run_main(["--latency-ms", "5", "--jitter", "1.5"])
        self.assertIn("--jitter", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
