import { strict as assert } from 'assert';
import { type Envelope, ProtocolError, unexpected } from '../../src/shared/protocol';
import { CancelledError, Envelopes, Requests, type Settle } from '../../src/shared/requests';
import { Token } from './testToken';

type Ask = { type: 'ask'; question: string };
type Answer = { type: 'progress'; percent: number } | { type: 'answer'; text: string } | { type: 'refusal'; reason: string };

function setup() {
  const sent: Envelope<Ask>[] = [];
  let cancels = 0;
  const requests = new Requests<Ask, Answer>((m) => sent.push(m), { idPrefix: 'r-', onCancel: () => cancels++ });
  const progress: number[] = [];
  const onReply = (reply: Answer, settle: Settle<string>) => {
    switch (reply.type) {
      case 'progress':
        progress.push(reply.percent);
        break;
      case 'answer':
        settle.resolve(reply.text);
        break;
      case 'refusal':
        settle.reject(new Error(reply.reason));
        break;
      default:
        unexpected(reply);
    }
  };
  const ask = (question: string, options = {}) => requests.request({ type: 'ask', question }, onReply, options);
  const other = new Envelopes('o-');
  const answer = (to: Envelope<Ask>, m: Answer) => requests.receive(other.reply(to, m));
  return { sent, requests, ask, answer, progress, cancels: () => cancels };
}

describe('request/reply helper', () => {
  it('puts messages in envelopes with ids of their own; a reply names the message it answers', () => {
    const envelopes = new Envelopes('x-');
    const first = envelopes.message({ type: 'ready' });
    const second = envelopes.message({ type: 'ready' });
    assert.deepEqual([first, second], [{ type: 'ready', id: 'x-1' }, { type: 'ready', id: 'x-2' }]);
    assert.deepEqual(envelopes.reply(first, { type: 'done', n: 1 }), { type: 'done', n: 1, id: 'x-3', inReplyTo: 'x-1' });
  });

  it('matches replies to their requests by id, whatever their order, and passes notices before the last', async () => {
    const t = setup();
    const one = t.ask('one');
    const two = t.ask('two');
    assert.deepEqual(t.sent, [{ type: 'ask', question: 'one', id: 'r-1' }, { type: 'ask', question: 'two', id: 'r-2' }]);
    assert.equal(t.answer(t.sent[1], { type: 'progress', percent: 50 }), true);
    assert.equal(t.answer(t.sent[1], { type: 'answer', text: 'second' }), true);
    assert.equal(t.answer(t.sent[0], { type: 'answer', text: 'first' }), true);
    assert.equal(await one, 'first');
    assert.equal(await two, 'second');
    assert.deepEqual(t.progress, [50]);
    assert.equal(t.requests.waiting, 0);
  });

  it('ignores a reply to an unknown id, a reply after the last, and a message that answers nothing', async () => {
    const t = setup();
    const one = t.ask('one');
    assert.equal(t.requests.receive({ type: 'answer', text: 'x', id: 'o-1', inReplyTo: 'r-99' }), false);
    assert.equal(t.requests.receive({ type: 'answer', text: 'x', id: 'o-2' }), false);
    assert.equal(t.requests.receive(null as unknown as Envelope<Answer>), false);
    assert.equal(t.requests.waiting, 1, 'the request still waits');
    t.answer(t.sent[0], { type: 'refusal', reason: 'no' });
    await assert.rejects(one, /^Error: no$/);
    assert.equal(t.answer(t.sent[0], { type: 'answer', text: 'late' }), false);
  });

  it('fails a request whose reply its handler does not know', async () => {
    const t = setup();
    const one = t.ask('one');
    t.requests.receive({ type: 'shout', id: 'o-1', inReplyTo: 'r-1' } as unknown as Envelope<Answer>);
    await assert.rejects(one, (e: unknown) => e instanceof ProtocolError && e.message === 'unexpected message type "shout"');
    assert.equal(t.requests.waiting, 0);
  });

  it('times out with the error asked for, and a late reply changes nothing', async () => {
    const t = setup();
    const started = Date.now();
    const one = t.ask('one', { timeoutMs: 20, timeoutError: () => new Error('no answer after 20 ms') });
    await assert.rejects(one, /no answer after 20 ms/);
    assert.ok(Date.now() - started >= 15);
    assert.equal(t.requests.waiting, 0);
    assert.equal(t.answer(t.sent[0], { type: 'answer', text: 'late' }), false);
    // Without an error of its own a timeout names the request.
    await assert.rejects(t.ask('two', { timeoutMs: 1 }), /no reply to "ask" after 1 ms/);
  });

  it('a settled request clears its timer and its cancellation listener', async () => {
    const t = setup();
    const token = new Token();
    const one = t.ask('one', { timeoutMs: 30, token });
    assert.equal(token.listening, 1);
    t.answer(t.sent[0], { type: 'answer', text: 'in time' });
    assert.equal(await one, 'in time');
    assert.equal(token.listening, 0);
    await new Promise((r) => setTimeout(r, 40)); // the timer would have fired by now
    assert.equal(t.cancels(), 0);
  });

  it('on cancel, rejects with CancelledError, runs onCancel once, and ignores a late reply', async () => {
    const t = setup();
    const token = new Token();
    const one = t.ask('one', { token });
    const two = t.ask('two');
    token.cancel();
    await assert.rejects(one, CancelledError);
    assert.equal(t.cancels(), 1);
    assert.equal(t.answer(t.sent[0], { type: 'answer', text: 'late' }), false);
    // The other request still waits, and resend posts it again under its own id.
    t.requests.resend();
    assert.deepEqual(t.sent.slice(2), [{ type: 'ask', question: 'two', id: 'r-2' }]);
    t.answer(t.sent[2], { type: 'answer', text: 'two' });
    assert.equal(await two, 'two');
  });

  it('does not send a request whose token is already cancelled', async () => {
    const t = setup();
    const token = new Token();
    token.cancel();
    await assert.rejects(t.ask('one', { token }), CancelledError);
    assert.equal(t.sent.length, 0);
    assert.equal(t.cancels(), 0);
  });

  it('failAll rejects every waiting request', async () => {
    const t = setup();
    const all = [t.ask('one'), t.ask('two')];
    t.requests.failAll(new Error('the other side stopped'));
    for (const p of all) await assert.rejects(p, /the other side stopped/);
    assert.equal(t.requests.waiting, 0);
  });
});
