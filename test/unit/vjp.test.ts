// The gradient driver's chores: nothing built for gradients nobody needs, one error for every
// op type without a rule on the path.
import * as assert from 'assert';
import { collectConstants, measureShapes } from '../../src/engine/autodiff/graphInfo';
import { UnsupportedGradientError } from '../../src/engine/autodiff/rules';
import { appendVjp } from '../../src/engine/autodiff/vjp';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { float, floatValueInfo } from '../../src/engine/onnx/proto';
import { Net } from './gradcheck';

/** The op types of the nodes appendVjp adds for the net's output `y`, in order. */
async function backwardOps(net: Net, y: string): Promise<string[]> {
  const model = net.model(y);
  const shapes = await measureShapes(model, 'x');
  const graph = structuredClone(model.graph!);
  graph.input!.push(floatValueInfo('ct', ['N', ...shapes.get(y)!.slice(1)]));
  const before = graph.node!.length;
  appendVjp(new GraphBuilder(graph, net.opset), { shapes, constants: collectConstants(graph) }, { input: 'x', output: y, cotangents: ['ct'] });
  return graph.node!.slice(before).map((n) => n.opType ?? '');
}

describe('gradient driver', () => {
  it('builds only the Gemm input gradient that is needed (not those of the weights and bias)', async () => {
    const net = new Net([2, 6]);
    const y = net.b.op('Gemm', ['x', net.weight([4, 6]), net.weight([4])], { alpha: float(0.7), transB: 1 });
    assert.deepStrictEqual(await backwardOps(net, y), ['Gemm']);
  });

  it('builds only the gradient of B when B alone is on the path', async () => {
    const net = new Net([2, 6]);
    const y = net.b.op('Transpose', [net.b.op('Gemm', [net.weight([4, 6]), net.b.op('Transpose', ['x'])])]);
    // Transpose back, Gemm for B, Transpose back to x.
    assert.deepStrictEqual(await backwardOps(net, y), ['Transpose', 'Gemm', 'Transpose']);
  });

  it('sums a broadcast gradient to the input shape only where the input was broadcast', async () => {
    const net = new Net([2, 3, 1, 1]);
    const y = net.b.op('Mul', ['x', net.weight([1, 3, 4, 4])]);
    // g·w, then ReduceSum over the two broadcast axes; nothing for the weight.
    assert.deepStrictEqual(await backwardOps(net, y), ['Mul', 'ReduceSum']);
  });

  it('lists every op type on the path without a rule, with counts and an example node, and nothing off the path', async () => {
    const net = new Net([2, 6]);
    const { b } = net;
    const first = b.op('Sin', ['x']);
    const second = b.op('Sin', [b.op('Relu', [b.op('Celu', [first])])]);
    // Off the differentiable path: a Cos of a weight, and a Round on the shape the Reshape reads (which gets no gradient).
    const offset = b.op('Cos', [net.weight([6])]);
    const target = b.op('Cast', [b.op('Round', [b.op('Cast', [b.op('Shape', ['x'])], { to: 1 })])], { to: 7 });
    const y = b.op('Reshape', [b.op('Add', [second, offset]), target]);
    await assert.rejects(backwardOps(net, y), (e: Error) => {
      assert.ok(e instanceof UnsupportedGradientError);
      assert.match(
        e.message,
        /^the model cannot be differentiated from "x" to "net\/Reshape_\d+": 2 operators have no gradient rule: Sin \(2 nodes, e\.g\. "net\/Sin_node_\d+"\), Celu \(1 node, e\.g\. "net\/Celu_node_\d+"\); supported operators: Abs, Add, .*, Unsqueeze$/,
      );
      return true;
    });
  });
});
