"""The paced card's own report of running dry, which the contract tests rely on under load.

On a loaded machine the card's callback can come late; PulseAudio then plays silence and
drops some of the late audio, so the capture is no longer what was sent. The contract tests
compare sample for sample unless the card says it ran dry (Sink.starved); this checks that
it does say so, and what such a capture looks like, by holding one callback back on purpose.
"""

from __future__ import annotations

import time

import pytest
from playout_helpers import find_aired, mono, tone, write_wav

from broadcaster.playout.line import Line


@pytest.mark.paced
@pytest.mark.parametrize("sink", ["pulse"], indirect=True)
def test_a_callback_held_back_mid_item_is_reported_and_leaves_pieces_in_order(sink, tmp_path, monkeypatch):
    item = tone(1000, 0.5)
    callback, seen = Line.callback, {"item_blocks": 0}

    def late_once(line, outdata, frames, time_info, status):
        if seen["item_blocks"]:
            seen["item_blocks"] += 1
            if seen["item_blocks"] == 8:  # a block well inside the item
                time.sleep(0.25)  # far longer than the stream's buffer (~64 ms): the card runs dry
        callback(line, outdata, frames, time_info, status)
        if outdata.any() and not seen["item_blocks"]:
            seen["item_blocks"] = 1

    monkeypatch.setattr(Line, "callback", late_once)
    player = sink.make_player()
    player.open()
    sink.wait_flowing(player)
    player.play(write_wav(tmp_path / "item.wav", item))
    heard = mono(sink.heard())
    assert seen["item_blocks"] >= 8, "the item was not held back"
    assert sink.starved(), "the card did not report running dry"
    assert find_aired(heard, item) is None, "the capture should miss a stretch of the item"
    found = find_aired(heard, item, dropouts=True)
    assert found is not None, "the capture is not made of the item's own samples in order"
    assert not heard[: found[0]].any() and not heard[found[1] :].any()
