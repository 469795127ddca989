// The office map (/office/map): fetches the GeoJSON named by #map's data-src and draws it with
// Leaflet on a blank background (no tile layer: the district's network may be closed).
// - street segments coloured by the share the period's patrols covered;
// - open problems as circle markers, overdue ones dark red with an outline;
// - signboards as blue circle markers;
// - a popup for each, built from text nodes (never HTML from the data), with a link to a
//   problem's page. The colours match the legend in office.css.
(function () {
  'use strict';
  var el = document.getElementById('map');
  var status = document.getElementById('map-status');
  if (!el || !window.L) return;
  function say(text) { if (status) status.textContent = text; }
  say('正在加载地图数据…');

  var COVER = [
    [0.9, '#0b6e4f'],   // 基本覆盖
    [0.5, '#d4b106'],   // 大部分覆盖
    [1e-9, '#f08c00'],  // 部分覆盖
    [-1, '#9aa5b1']     // 未巡
  ];
  function coverColour(r) {
    for (var i = 0; i < COVER.length; i++) if (r >= COVER[i][0]) return COVER[i][1];
    return COVER[COVER.length - 1][1];
  }
  function percent(r) { return (Math.round(r * 1000) / 10) + '%'; }

  // A popup: a title and label/value lines, and a link when given.
  function popup(title, lines, link) {
    var box = document.createElement('div');
    box.className = 'map-popup';
    var h = document.createElement('b');
    h.textContent = title;
    box.appendChild(h);
    lines.forEach(function (l) {
      if (l[1] === null || l[1] === undefined || l[1] === '') return;
      var p = document.createElement('div');
      p.textContent = l[0] + '：' + l[1];
      box.appendChild(p);
    });
    if (link) {
      var a = document.createElement('a');
      a.href = link[0];
      a.textContent = link[1];
      box.appendChild(a);
    }
    return box;
  }

  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25, preferCanvas: false });
  map.setView([39.9, 116.4], 12);

  function draw(data) {
    var props = data.properties || {};
    var layer = L.geoJSON(data, {
      filter: function (f) { return f.properties && f.geometry; },
      style: function (f) {
        var r = f.properties.covered_ratio || 0;
        return { color: coverColour(r), weight: r > 0 ? 5 : 4, opacity: 0.9, lineCap: 'round' };
      },
      pointToLayer: function (f, latlng) {
        var p = f.properties;
        if (p.kind === 'signboard') {
          return L.circleMarker(latlng, { radius: 6, color: '#ffffff', weight: 2, fillColor: '#1f5fbf', fillOpacity: 1 });
        }
        return p.overdue
          ? L.circleMarker(latlng, { radius: 8, color: '#000000', weight: 2, fillColor: '#7f0000', fillOpacity: 1 })
          : L.circleMarker(latlng, { radius: 7, color: '#ffffff', weight: 2, fillColor: '#d32f2f', fillOpacity: 1 });
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        if (p.kind === 'segment') {
          l.bindPopup(popup(p.street || '街巷', [
            ['覆盖', percent(p.covered_ratio || 0)],
            ['巡查次数', String(p.patrols)],
            ['路段长度', Math.round(p.length_m) + ' 米']
          ]));
        } else if (p.kind === 'issue') {
          l.bindPopup(popup(p.category + (p.overdue ? '（已超期）' : ''), [
            ['状态', p.status_name],
            ['街巷', p.street],
            ['描述', p.description],
            ['上报时间', p.reported],
            ['处置时限', p.due]
          ], [p.url, '查看问题详情']));
        } else if (p.kind === 'signboard') {
          l.bindPopup(popup('街巷牌', [['街巷', p.street], ['编号', p.id]]));
        }
      }
    });
    // Lines under markers: segments first, then signboards, open problems, overdue ones on
    // top (a group adds its layers in the order they were made, so each kind is added alone).
    var kinds = { segment: L.featureGroup(), signboard: L.featureGroup(), issue: L.featureGroup(), overdue: L.featureGroup() };
    layer.eachLayer(function (l) {
      var p = l.feature.properties;
      var kind = p.kind === 'issue' && p.overdue ? 'overdue' : p.kind;
      if (kinds[kind]) kinds[kind].addLayer(l);
    });
    ['segment', 'signboard', 'issue', 'overdue'].forEach(function (k) { kinds[k].addTo(map); });
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 18 });
      say('');
    } else {
      say('这个范围内还没有街巷数据。');
    }
    var s = props.summary;
    if (s && bounds.isValid()) {
      say('共 ' + s.segments + ' 个路段、' + s.open_issues + ' 个未办结问题、' + s.signboards + ' 块街巷牌。');
    }
  }

  var xhr = new XMLHttpRequest();
  xhr.open('GET', el.getAttribute('data-src'));
  xhr.setRequestHeader('Accept', 'application/geo+json');
  xhr.onload = function () {
    if (xhr.status !== 200) {
      say(xhr.status === 401 ? '登录已过期，请重新登录。' : '地图数据加载失败（' + xhr.status + '）。');
      return;
    }
    try {
      draw(JSON.parse(xhr.responseText));
    } catch (e) {
      say('地图数据无法显示：' + e.message);
    }
  };
  xhr.onerror = function () { say('地图数据加载失败，请检查网络后刷新。'); };
  xhr.send();
}());
