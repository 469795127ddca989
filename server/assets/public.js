// The signboard page's small helpers; the forms work without them.
// - "use my location": fills the hidden lat/lon from the browser's geolocation.
// - photo previews, at most 3; a photo over 6 MB is shrunk in the browser before it is sent.
(function () {
  'use strict';
  document.documentElement.classList.add('has-js');
  var locate = document.getElementById('locate');
  if (locate && navigator.geolocation) {
    locate.addEventListener('click', function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        document.getElementById('lat').value = p.coords.latitude.toFixed(6);
        document.getElementById('lon').value = p.coords.longitude.toFixed(6);
        document.getElementById('loc-status').textContent = locate.dataset.done;
      }, function () {}, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }
  var input = document.getElementById('photos');
  var previews = document.getElementById('previews');
  var MAX = 3, SHRINK_OVER = 6 * 1024 * 1024, SIDE = 2048;
  if (!input || !window.DataTransfer) return;
  function shrink(file) {
    return new Promise(function (resolve) {
      if (file.size <= SHRINK_OVER || !window.createImageBitmap) return resolve(file);
      createImageBitmap(file).then(function (bmp) {
        var k = Math.min(1, SIDE / Math.max(bmp.width, bmp.height));
        var c = document.createElement('canvas');
        c.width = Math.round(bmp.width * k); c.height = Math.round(bmp.height * k);
        c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
        c.toBlob(function (b) {
          resolve(b ? new File([b], file.name.replace(/\.\w+$/, '') + '.jpg', { type: 'image/jpeg' }) : file);
        }, 'image/jpeg', 0.85);
      }, function () { resolve(file); });
    });
  }
  input.addEventListener('change', function () {
    var files = Array.prototype.slice.call(input.files, 0, MAX);
    Promise.all(files.map(shrink)).then(function (kept) {
      var dt = new DataTransfer();
      kept.forEach(function (f) { dt.items.add(f); });
      input.files = dt.files;
      previews.textContent = '';
      kept.forEach(function (f) {
        var img = document.createElement('img');
        img.src = URL.createObjectURL(f); img.alt = '';
        previews.appendChild(img);
      });
    });
  });
})();
