// A time-series chart (uPlot): line, area or bars, one or more series, sized to its box.

import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Columns } from '../lib/series';

export const PALETTE = ['#2f80ed', '#e8833a', '#27ae60', '#c0392b', '#8e44ad', '#16a085', '#d4ac0d', '#7f8c8d'];

export interface ChartProps {
  data: Columns;
  labels: string[];
  kind?: 'line' | 'area' | 'bar';
  height?: number;
  units?: string;
}

export function Chart({ data, labels, kind = 'line', height, units }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${kind}|${labels.join('|')}|${units ?? ''}`;

  useEffect(() => {
    const el = box.current!;
    const size = () => ({ width: Math.max(120, el.clientWidth), height: height ?? Math.max(80, el.clientHeight - 30) });
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const axis = { stroke: dark ? '#aab' : '#556', grid: { stroke: dark ? '#2a3140' : '#e6e9ef', width: 1 }, ticks: { show: false } };
    const opts: uPlot.Options = {
      ...size(),
      legend: { show: labels.length > 1 },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [axis, { ...axis, size: 56, values: (_u, v) => v.map((x) => (units ? `${x}${units}` : `${x}`)) }],
      series: [
        {},
        ...labels.map((label, i) => {
          const color = PALETTE[i % PALETTE.length];
          return {
            label,
            stroke: color,
            width: 2,
            spanGaps: true,
            fill: kind === 'area' ? color + '33' : kind === 'bar' ? color + 'aa' : undefined,
            paths: kind === 'bar' ? uPlot.paths.bars!({ size: [0.7, 40] }) : undefined,
            points: { show: false },
          };
        }),
      ],
    };
    plot.current = new uPlot(opts, data as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.current?.setSize(size()));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when its shape changes; new data goes through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div className="chart" ref={box} data-points={data[0].length} />;
}
