// Only browsers without ES modules run this (the app itself cannot start there): say so on
// screen instead of an endless "loading". Plain ES5, no imports.
(function () {
  var view = document.getElementById('view');
  if (view) {
    view.innerHTML = '<p class="notice bad">这个浏览器版本太旧，无法使用走访。请用 Chrome 91、' +
      'Safari 15 或更新版本的浏览器打开（微信内请点右上角，选择“在浏览器打开”）。</p>';
  }
}());
